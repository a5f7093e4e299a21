// Small inline-SVG charts: lines over time or weeks, with an optional target band and marked spans.
// Each chart comes with a text table (in <details>) so the numbers are available without seeing the plot.

const SVG = "http://www.w3.org/2000/svg";
export const COLORS = ["#0b5cad", "#c2410c", "#1d7a36", "#7c3aed", "#b3261e", "#0f766e"];

function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The drawing width (px) for charts in a .chart-grid container, so text is drawn at its real size. */
export function gridChartWidth(container, minColumn = 460, gap = 16, padding = 26) {
  const total = container.clientWidth || 640;
  const columns = Math.max(1, Math.floor((total + gap) / (minColumn + gap)));
  return Math.max(300, (total - gap * (columns - 1)) / columns - padding);
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * A line chart.
 * opts: {title, series: [{name, points: [[x, y], ...], color, dashed, dots}], band: [lo, hi] | null,
 *        spans: [{x0, x1, label, onClick}], xLabels: [strings] (categorical x = index), xUnit,
 *        height, yMin, yMax}
 * Returns a <figure class="chart">.
 */
export function lineChart(opts) {
  const W = Math.round(opts.width || 640);
  const H = opts.height || 240;
  const m = { l: 52, r: 14, t: 18, b: 40 };
  const series = (opts.series || []).filter((sr) => sr.points && sr.points.some((p) => Number.isFinite(p[1])));
  const xs = series.flatMap((sr) => sr.points.map((p) => p[0]));
  const ys = series.flatMap((sr) => sr.points.map((p) => p[1]));
  const band = opts.band && opts.band.some(Number.isFinite) ? opts.band : null; // one side may be open
  if (band) ys.push(...band.filter(Number.isFinite));
  const lines = (opts.lines || []).filter((ln) => Number.isFinite(ln.y)); // thresholds: [{y, label, dashed}]
  ys.push(...lines.map((ln) => ln.y));
  for (const sp of opts.spans || []) xs.push(sp.x0, sp.x1);
  let [x0, x1] = extent(xs);
  let [y0, y1] = extent(ys);
  if (opts.xLabels) [x0, x1] = [-0.5, opts.xLabels.length - 0.5];
  if (opts.yMin !== undefined) y0 = Math.min(y0, opts.yMin);
  if (opts.yMax !== undefined) y1 = Math.max(y1, opts.yMax);
  if (!Number.isFinite(x0)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  const pad = (y1 - y0) * 0.06 || 1;
  y0 -= pad;
  y1 += pad;
  const X = (v) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title || "chart" });
  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (const v of niceTicks(y0, y1)) {
    grid.append(s("line", { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v) }));
    axis.append(s("text", { x: m.l - 6, y: Y(v) + 4, "text-anchor": "end" }, fmtNum(v)));
  }
  if (opts.xLabels) {
    const every = Math.max(1, Math.ceil(opts.xLabels.length / 8));
    opts.xLabels.forEach((lab, i) => {
      if (i % every === 0) axis.append(s("text", { x: X(i), y: H - m.b + 20, "text-anchor": "middle" }, lab));
    });
  } else {
    for (const v of niceTicks(x0, x1, 8)) {
      axis.append(s("line", { x1: X(v), x2: X(v), y1: H - m.b, y2: H - m.b + 4 }));
      axis.append(s("text", { x: X(v), y: H - m.b + 20, "text-anchor": "middle" }, fmtNum(v)));
    }
  }
  axis.append(s("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  if (opts.xUnit) axis.append(s("text", { x: W - m.r, y: H - 2, "text-anchor": "end" }, opts.xUnit));
  svg.append(grid);

  if (band) {
    const lo = Number.isFinite(band[0]) ? Math.max(band[0], y0) : y0;
    const hi = Number.isFinite(band[1]) ? Math.min(band[1], y1) : y1;
    const [a, b] = [Math.min(lo, hi), Math.max(lo, hi)];
    svg.append(s("rect", { class: "band", x: m.l, width: W - m.l - m.r, y: Y(b), height: Math.max(1, Y(a) - Y(b)) }));
  }
  const placed = []; // label positions so far: a label close to another goes to the other end of its line
  for (const ln of lines) {
    const g = s("g", { class: "threshold" });
    g.append(s("line", { x1: m.l, x2: W - m.r, y1: Y(ln.y), y2: Y(ln.y), stroke: ln.color || "#6b7280",
      "stroke-width": 1.2, "stroke-dasharray": ln.dashed ? "5 4" : "2 3" }));
    const y = Y(ln.y) - 4;
    const left = placed.some((p) => !p.left && Math.abs(p.y - y) < 13);
    const below = left && placed.some((p) => p.left && Math.abs(p.y - y) < 13);
    placed.push({ y: below ? y + 16 : y, left });
    g.append(s("text", { x: left ? m.l + 4 : W - m.r - 4, y: below ? y + 16 : y, "text-anchor": left ? "start" : "end",
      class: "threshold-label" }, `${ln.label} ${fmtNum(ln.y)}`));
    svg.append(g);
  }
  for (const sp of opts.spans || []) {
    const g = s("g", { class: "span-mark" });
    g.append(s("rect", { class: "rep-span", x: X(sp.x0), width: Math.max(2, X(sp.x1) - X(sp.x0)), y: m.t, height: H - m.t - m.b }));
    if (sp.label) g.append(s("text", { class: "rep-label", x: (X(sp.x0) + X(sp.x1)) / 2, y: m.t + 12, "text-anchor": "middle" }, sp.label));
    if (sp.onClick) {
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", sp.title || sp.label || "mark");
      g.style.cursor = "pointer";
      g.addEventListener("click", sp.onClick);
      g.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), sp.onClick()));
    }
    svg.append(g);
  }
  series.forEach((sr, i) => {
    const color = sr.color || COLORS[i % COLORS.length];
    let d = "";
    let pen = false;
    for (const [x, y] of decimate(sr.points, 2 * (W - m.l - m.r))) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = true;
    }
    svg.append(s("path", { d, fill: "none", stroke: color, "stroke-width": 2.2, "stroke-dasharray": sr.dashed ? "6 4" : null }));
    if (sr.dots || opts.xLabels) {
      for (const [x, y] of sr.points) if (Number.isFinite(y)) svg.append(s("circle", { cx: X(x), cy: Y(y), r: 3.5, fill: color }));
    }
  });
  svg.append(axis);

  const fig = document.createElement("figure");
  fig.className = "chart";
  const cap = document.createElement("figcaption");
  cap.textContent = opts.title || "";
  fig.append(cap, svg);
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((sr, i) => {
    const item = document.createElement("span");
    const sw = document.createElement("i");
    sw.style.background = sr.color || COLORS[i % COLORS.length];
    item.append(sw, sr.name || "");
    legend.append(item);
  });
  if (band) {
    const item = document.createElement("span");
    const sw = document.createElement("i");
    sw.style.background = "rgba(29,122,54,0.35)";
    item.append(sw, opts.bandLabel || "target band");
    legend.append(item);
  }
  fig.append(legend);
  if (opts.table !== false) fig.append(dataTable(opts, series));
  return fig;
}

function dataTable(opts, series) {
  const det = document.createElement("details");
  const sum = document.createElement("summary");
  sum.textContent = "Numbers";
  det.append(sum);
  const table = document.createElement("table");
  table.className = "data";
  const head = document.createElement("tr");
  for (const h of [opts.xLabels ? "Week" : opts.xUnit || "x", ...series.map((sr) => sr.name)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  table.append(head);
  const xs = [...new Set(series.flatMap((sr) => sr.points.map((p) => p[0])))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(xs.length / 60)); // long time series: every n-th sample
  for (let i = 0; i < xs.length; i += step) {
    const x = xs[i];
    const tr = document.createElement("tr");
    const cells = [opts.xLabels ? opts.xLabels[x] : fmtNum(x)];
    for (const sr of series) {
      const p = sr.points.find((q) => q[0] === x);
      cells.push(p && Number.isFinite(p[1]) ? fmtNum(p[1]) : "–");
    }
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.append(td);
    }
    table.append(tr);
  }
  det.append(table);
  return det;
}

/** At most about ``limit`` points, keeping each bucket's lowest and highest value (peaks stay visible). */
export function decimate(points, limit) {
  if (points.length <= limit) return points;
  const size = Math.ceil((2 * points.length) / limit);
  const out = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size).filter((p) => Number.isFinite(p[1]));
    if (!bucket.length) {
      out.push([points[i][0], NaN]); // keep gaps as gaps
      continue;
    }
    let lo = bucket[0];
    let hi = bucket[0];
    for (const p of bucket) {
      if (p[1] < lo[1]) lo = p;
      if (p[1] > hi[1]) hi = p;
    }
    out.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
  }
  return out;
}

export function fmtNum(v) {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 100) return Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, "");
  return a >= 10 ? v.toFixed(1).replace(/\.0$/, "") : v.toFixed(2).replace(/\.?0+$/, "");
}

/**
 * A session timeline: reps and holds as bars, warnings and pain as ticks; items are keyboard-focusable
 * buttons that call onPick(item). items: [{kind: "rep"|"hold"|"warning"|"pain", t0, t1, label, title}]
 */
export function timeline(items, duration, onPick, width = 640) {
  const W = Math.max(320, Math.round(width));
  const rows = { rep: 0, hold: 1, warning: 2, pain: 3 };
  const names = ["Reps", "Holds", "Warnings", "Pain"];
  const colors = { rep: "#0b5cad", hold: "#1d7a36", warning: "#9a5b00", pain: "#b3261e" };
  const m = { l: 84, r: 14, t: 6 };
  const rowH = 30;
  const H = m.t + 4 * rowH + 26;
  const end = Math.max(duration || 0, ...items.map((it) => it.t1 ?? it.t0), 1);
  const X = (v) => m.l + (v / end) * (W - m.l - m.r);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "group", "aria-label": "Session timeline" });
  names.forEach((n, i) => {
    svg.append(s("text", { x: 4, y: m.t + i * rowH + 20 }, n));
    svg.append(s("line", { x1: m.l, x2: W - m.r, y1: m.t + i * rowH + 15, y2: m.t + i * rowH + 15, stroke: "#e1e5ea" }));
  });
  for (const v of niceTicks(0, end, 8)) {
    svg.append(s("text", { x: X(v), y: H - 6, "text-anchor": "middle" }, `${fmtNum(v)} s`));
  }
  for (const it of items) {
    const y = m.t + rows[it.kind] * rowH;
    const g = s("g", { class: "tl-item", tabindex: "0", role: "button", "aria-label": it.title || it.label });
    const t = s("title", {}, it.title || it.label);
    g.append(t);
    if (it.t1 !== undefined && it.t1 !== null && it.t1 > it.t0) {
      g.append(s("rect", { x: X(it.t0), y: y + 3, width: Math.max(4, X(it.t1) - X(it.t0)), height: 24, rx: 4, fill: colors[it.kind] }));
      if (it.label) g.append(s("text", { x: X((it.t0 + it.t1) / 2), y: y + 20, "text-anchor": "middle", fill: "#fff", style: "fill:#fff;font-weight:700" }, it.label));
    } else {
      g.append(s("path", { d: `M${X(it.t0)},${y + 3} l8,12 l-8,12 l-8,-12 z`, fill: colors[it.kind] }));
    }
    if (onPick) {
      g.addEventListener("click", () => onPick(it));
      g.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), onPick(it)));
    }
    svg.append(g);
  }
  const wrap = document.createElement("div");
  wrap.className = "timeline";
  wrap.append(svg);
  return wrap;
}
