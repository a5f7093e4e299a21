// A scored session: summary, timeline of reps / holds / warnings / pain, joint-angle curves with the target
// band and each rep marked, the annotated video (clicking a rep or warning seeks it), notes, exports.
import { api, badge, el, fmtDate, fmtSeconds, listOf, pretty, runPage, setStatus } from "./api.js";
import { gridChartWidth, lineChart, timeline } from "./charts.js";

const sid = document.body.dataset.sessionId;
const video = document.getElementById("video");
const RUNNING = new Set(["queued", "running", "recording"]);
let patientName = "";
let names = new Map(); // catalog id -> exercise name
const exName = (id) => names.get(id) || pretty(id);

function seek(t) {
  if (document.getElementById("video-box").hidden) return;
  video.currentTime = Math.max(0, t - 0.3);
  video.focus();
  video.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function tile(value, label) {
  return el("div", { class: "tile" }, el("div", { class: "value" }, value), el("div", { class: "label" }, label));
}

// The curves of every exercise of the session: series = {exercise id: {t: [...], <signal>: [...], target_band}}.
function seriesByExercise(d) {
  return Object.entries(d.series || {}).filter(([, v]) => v && Array.isArray(v.t));
}

function renderCurves(d) {
  const charts = [];
  const width = gridChartWidth(document.getElementById("curves"));
  for (const [exercise, series] of seriesByExercise(d)) {
    const bands = series.target_band || {};
    const reps = d.reps.filter((r) => r.exercise === exercise);
    const holds = d.holds.filter((h) => h.exercise === exercise);
    const totals = (d.summary.by_exercise || {})[exercise] || {};
    const thresholds = totals.thresholds || {};
    const missed = totals.not_counted || [];
    const signals = Object.keys(series).filter((k) => k !== "t" && k !== "target_band" && Array.isArray(series[k]));
    signals.sort((a, b) => (b in bands) - (a in bands)); // the driving signal first
    for (const signal of signals) {
      const points = series.t.map((t, i) => [t, series[signal][i] ?? NaN]);
      if (!points.some((p) => Number.isFinite(p[1]))) continue;
      const spans = [
        ...reps.map((r) => ({ x0: r.start_s, x1: r.end_s, label: `#${r.index}`, title: `Repetition ${r.index}: go to ${fmtSeconds(r.start_s)}`,
          onClick: d.video_url ? () => seek(r.start_s) : null })),
        ...holds.map((h, i) => ({ x0: h.start_s, x1: h.end_s, label: `hold ${i + 1}`, title: `Hold ${i + 1}`,
          onClick: d.video_url ? () => seek(h.start_s) : null })),
      ];
      if (signal === Object.keys(thresholds)[0] || signal in bands) {
        spans.push(...missed.map((m) => ({ x0: m.start_s, x1: m.end_s, label: "✕",
          title: `Not counted at ${fmtSeconds(m.start_s)}: ${m.reason}`, onClick: d.video_url ? () => seek(m.start_s) : null })));
      }
      const lines = Object.entries(thresholds[signal] || {}).map(([label, y]) => ({ y, label,
        dashed: label.startsWith("personal"), color: label.startsWith("personal") ? "#7c3aed" : null }));
      charts.push(lineChart({ title: `${exName(exercise)}: ${pretty(signal)}`, series: [{ name: `${pretty(signal)} (°)`, points }],
        band: bands[signal] || null, spans, lines, xUnit: "s", height: 260, width }));
    }
  }
  document.getElementById("curves").replaceChildren(...charts);
  document.getElementById("curves-empty").hidden = charts.length > 0;
  renderTuning(d);
}

// Why movements were not counted, and the range the person reached (personal calibration): the tuning view.
function renderTuning(d) {
  const box = document.getElementById("tuning");
  if (!box) return;
  const parts = [];
  for (const [exercise, totals] of Object.entries(d.summary.by_exercise || {})) {
    const cal = totals.calibration;
    if (cal && cal.movements) {
      const reached = cal.end_reached ? `${cal.end_reached[0]}–${cal.end_reached[1]}` : "–";
      parts.push(el("p", {}, el("strong", {}, `${exName(exercise)}: `),
        `${pretty(cal.signal)} reached ${reached} over ${cal.movements} movement${cal.movements === 1 ? "" : "s"} `,
        `(spec target ${cal.spec_target}${cal.calibrated ? `, this person's target ${cal.target}` : ", not calibrated yet"}).`));
    }
    const missed = totals.not_counted || [];
    if (missed.length) {
      const rows = missed.map((m) => el("tr", {}, el("td", {}, fmtSeconds(m.start_s)), el("td", {}, m.reason),
        el("td", {}, `${m.reached}`), el("td", {}, `${m.target}`), el("td", {}, m.short_by ? `${m.short_by}` : "–")));
      parts.push(el("table", { class: "table", "aria-label": `${exName(exercise)}: movements not counted` },
        el("thead", {}, el("tr", {}, ...["At", "Why not counted", "Reached", "Target", "Short by"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows)));
    }
  }
  box.replaceChildren(...parts);
  box.closest("section").hidden = parts.length === 0;
}

function timelineItems(d) {
  return [
    ...d.reps.map((r) => ({ kind: "rep", t0: r.start_s, t1: r.end_s, label: String(r.index),
      title: `Repetition ${r.index} at ${fmtSeconds(r.start_s)}, score ${Math.round(r.score)}${r.faults.length ? `: ${r.faults.map(pretty).join(", ")}` : ""}` })),
    ...d.holds.map((h, i) => ({ kind: "hold", t0: h.start_s, t1: h.end_s, label: `${h.duration_s.toFixed(0)} s`,
      title: `Hold ${i + 1}: ${h.duration_s.toFixed(1)} s of ${h.target_s} s` })),
    ...d.warnings.map((w) => ({ kind: "warning", t0: w.t_s, title: `Warning at ${fmtSeconds(w.t_s)}: ${w.message}` })),
    ...d.pain.map((p) => ({ kind: "pain", t0: p.t_s, title: `Pain ${p.rating}/10 at ${fmtSeconds(p.t_s)} ${p.location || ""}` })),
  ];
}

function renderEvents(d) {
  const hasVideo = !!d.video_url;
  const when = (t) => (hasVideo ? el("button", { type: "button", class: "btn btn-small", onclick: () => seek(t),
    "aria-label": `Play from ${fmtSeconds(t)}` }, fmtSeconds(t)) : fmtSeconds(t));
  const rows = [
    ...d.reps.map((r) => [r.start_s, el("tr", { class: "ev-rep" }, el("td", {}, when(r.start_s)), el("td", {}, `Repetition ${r.index}`),
      el("td", {}, r.faults.length ? r.faults.map((f) => badge(pretty(f), "warn")) : badge("good form", "good"),
        ` ${r.range_of_motion ? `range ${Math.round(r.range_of_motion)}°, ` : ""}${r.tempo_s ? `${r.tempo_s.toFixed(1)} s` : ""}`),
      el("td", {}, Math.round(r.score)))]),
    ...d.holds.map((h, i) => [h.start_s, el("tr", {}, el("td", {}, when(h.start_s)), el("td", {}, `Hold ${i + 1}`),
      el("td", {}, `${h.duration_s.toFixed(1)} s (target ${h.target_s} s) `, h.faults.map((f) => badge(pretty(f), "warn"))), el("td", {}, "–"))]),
    ...d.warnings.map((w) => [w.t_s, el("tr", {}, el("td", {}, when(w.t_s)), el("td", {}, badge(w.severity || "warning", "warn")),
      el("td", {}, w.message), el("td", {}, "–"))]),
    ...d.pain.map((p) => [p.t_s, el("tr", {}, el("td", {}, when(p.t_s)), el("td", {}, badge(`pain ${p.rating}/10`, "bad")),
      el("td", {}, `${p.location || ""} ${p.note || ""}`), el("td", {}, "–"))]),
  ].sort((a, b) => a[0] - b[0]).map((x) => x[1]);
  document.querySelector("#events-table tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 4 }, "Nothing was recorded."))]));
}

function renderNotes(d, me) {
  document.getElementById("notes").replaceChildren(
    ...(d.notes.length ? d.notes.map((n) => el("li", {}, el("span", { class: "muted small" }, `${fmtDate(n.created_at)}: `), n.text))
      : [el("li", { class: "muted" }, "No notes yet.")]),
  );
  document.getElementById("note-form").hidden = me.role !== "therapist";
}

function recognised(d) {
  const rec = d.recognition;
  return rec && rec.method !== "given" ? `recognised as ${exName(rec.exercise)} (${Math.round(100 * rec.confidence)}% sure)` : "";
}

function render(d, me) {
  const title = d.programme ? `${pretty(d.programme)} programme`
    : names.get(d.title) || pretty(d.title || d.sets?.[0]?.exercise || "Session");
  document.getElementById("session-title").textContent = title;
  document.title = `${title} · formcheck`;
  const crumbs = document.getElementById("crumbs");
  const crumbLink = me.role === "therapist" && d.patient_id
    ? el("a", { href: `/therapist/patients/${d.patient_id}` }, "Patient")
    : el("a", { href: "/history" }, "My sessions");
  crumbs.replaceChildren(crumbLink, " ›");
  if (me.role === "therapist" && d.patient_id && !patientName) {
    api(`/api/patients/${d.patient_id}`).then((p) => {
      patientName = p.display_name || p.username;
      crumbLink.textContent = patientName;
    }).catch(() => {});
  } else if (patientName) crumbLink.textContent = patientName;
  document.getElementById("session-meta").textContent = [fmtDate(d.started_at), d.kind === "upload" ? "uploaded video" : "live session",
    `${fmtSeconds(d.duration_s)}`, `pose model ${d.model}`, recognised(d), d.frames ? `person seen in ${Math.round((100 * d.frames_with_person) / d.frames)}% of frames` : ""]
    .filter(Boolean).join(" · ");
  document.getElementById("notices").replaceChildren(...(d.notices || []).map((n) => el("li", {}, n)));
  const target = (d.sets || []).reduce((a, s) => a + (s.target_reps || 0), 0);
  const scores = d.reps.map((r) => r.score);
  const avg = scores.length ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : null;
  const tiles = [tile(el("span", { id: "rep-total" }, String(d.rep_count ?? d.reps.length)), target ? `repetitions (target ${target})` : "repetitions")];
  tiles.push(tile(avg === null ? "–" : String(avg), "average score"));
  if (d.holds.length) tiles.push(tile(`${Math.max(...d.holds.map((h) => h.duration_s)).toFixed(1)} s`, "longest hold"));
  tiles.push(tile(String(d.warnings.length), "form warnings"));
  tiles.push(tile(d.pain.length ? `${Math.max(...d.pain.map((p) => p.rating))}/10` : "none", "pain reported"));
  document.getElementById("tiles").replaceChildren(...tiles);
  const sets = d.sets || [];
  document.getElementById("sets-box").hidden = sets.length < 2;
  document.querySelector("#sets-table tbody").replaceChildren(...sets.map((st) => el("tr", {},
    el("td", {}, exName(st.exercise)), el("td", {}, st.set_index),
    el("td", {}, `${st.reps_done ?? "–"}${st.target_reps ? ` (${st.target_reps})` : ""}`),
    el("td", {}, st.avg_score ?? "–"),
    el("td", {}, st.hold_s || st.target_hold_s ? `${st.hold_s || 0} s${st.target_hold_s ? ` (${st.target_hold_s} s)` : ""}` : "–"),
    el("td", {}, st.status || ""))));
  const vbox = document.getElementById("video-box");
  vbox.hidden = !d.video_url;
  if (d.video_url && video.getAttribute("src") !== d.video_url) video.src = d.video_url;
  const items = timelineItems(d);
  const tl = document.getElementById("timeline");
  tl.replaceChildren(timeline(items, d.duration_s, d.video_url ? (it) => seek(it.t0) : null, tl.clientWidth));
  document.getElementById("timeline-help").textContent = d.video_url
    ? "Select a repetition, hold or warning to play the video from there."
    : "The video was not kept for this session (the patient's setting).";
  renderCurves(d);
  renderEvents(d);
  renderNotes(d, me);
  const job = document.getElementById("job-status");
  job.hidden = !RUNNING.has(d.status) && d.status !== "failed";
  if (d.status === "failed") job.textContent = `The analysis failed: ${d.error || "unknown error"}`;
  else if (RUNNING.has(d.status)) job.textContent = d.job ? `Being analysed: ${Math.round(d.job.progress || 0)}%` : `Status: ${d.status}`;
}

runPage(async (me) => {
  const [detail, catalog] = await Promise.all([api(`/api/sessions/${sid}`), api("/api/exercises").catch(() => [])]);
  names = new Map(listOf(catalog, "exercises").map((sp) => [sp.id, sp.name]));
  let d = detail;
  render(d, me);
  while (RUNNING.has(d.status) && d.kind === "upload") {
    await new Promise((r) => setTimeout(r, 2000));
    d = await api(`/api/sessions/${sid}`);
    render(d, me);
  }
  const form = document.getElementById("note-form");
  const msg = document.getElementById("note-msg");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.text.value.trim();
    if (!text) return setStatus(msg, "Write something first.", true);
    try {
      await api(`/api/sessions/${sid}/notes`, { method: "POST", body: { text } });
      form.reset();
      setStatus(msg, "Note saved.");
      d = await api(`/api/sessions/${sid}`);
      renderNotes(d, me);
    } catch (err) {
      setStatus(msg, err.message, true);
    }
  });
});
