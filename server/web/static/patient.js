// Therapist: one patient — programme and level, level-up suggestion, weekly trend charts, sessions.
import { api, badge, el, listOf, pretty, runPage, sessionRow, setStatus } from "./api.js";
import { gridChartWidth, lineChart } from "./charts.js";

const pid = document.body.dataset.patientId;
const FLAG_TEXT = { pain: "pain reported", form_worse: "form getting worse" };

function weekLabel(w) {
  const m = /^(\d{4})-W(\d{2})$/.exec(w || "");
  return m ? `W${Number(m[2])}` : String(w);
}

function renderPlan(p, programmes) {
  document.getElementById("patient-name").textContent = p.display_name || p.username;
  document.title = `${p.display_name || p.username} · formcheck`;
  const form = document.getElementById("plan-form");
  form.level.value = p.level;
  form.programme_id.replaceChildren(
    el("option", { value: "" }, "None"),
    ...programmes.map((pr) => el("option", { value: pr.id }, `${pr.title || pr.name}${pr.builtin || !pr.owner_id ? " (built in)" : ""}`)),
  );
  form.programme_id.value = p.programme_id ?? "";
  form.keep_videos.checked = !!p.keep_videos;
  const pct = p.adherence === null || p.adherence === undefined ? "" : ` (${Math.round(100 * p.adherence)}%)`;
  document.getElementById("adherence").textContent =
    p.adherence_text || `${p.sessions_done ?? 0} of ${p.sessions_planned ?? 0} sessions this week${pct}`;
  document.getElementById("flags").replaceChildren(
    ...(p.flags || []).map((f) => badge(FLAG_TEXT[f] || pretty(f), f === "pain" ? "bad" : "warn")),
  );
}

function renderTrends(t) {
  const box = document.getElementById("trends");
  const charts = [];
  const width = gridChartWidth(box);
  const exercises = t.exercises || {};
  for (const [exercise, weeks] of Object.entries(exercises)) {
    const labels = weeks.map((w) => weekLabel(w.week));  // one point per ISO week with data
    const pts = (key) => weeks.map((w, i) => [i, w[key] ?? NaN]);
    const name = names.get(exercise) || pretty(exercise);
    if (weeks.some((w) => w.reps_done || w.reps_target)) {
      charts.push(lineChart({ width, title: `${name}: repetitions done vs target`, xLabels: labels, yMin: 0,
        series: [{ name: "done", points: pts("reps_done") }, { name: "target", points: pts("reps_target"), dashed: true, color: "#4d5662" }] }));
    }
    if (weeks.some((w) => w.avg_score !== null && w.avg_score !== undefined)) {
      charts.push(lineChart({ width, title: `${name}: average form score`, xLabels: labels, yMin: 0, yMax: 100, band: [70, 100],
        bandLabel: "good form", series: [{ name: "average score", points: pts("avg_score"), color: "#1d7a36" }] }));
    }
    if (weeks.some((w) => w.hold_s)) {
      charts.push(lineChart({ width, title: `${name}: longest hold`, xLabels: labels, yMin: 0, yUnit: "s",
        series: [{ name: "hold (s)", points: pts("hold_s") }, { name: "target", points: pts("hold_target_s"), dashed: true, color: "#4d5662" }] }));
    }
    if (weeks.some((w) => w.range_of_motion)) {
      charts.push(lineChart({ width, title: `${name}: range of motion`, xLabels: labels, yUnit: "°",
        series: [{ name: "range of motion (°)", points: pts("range_of_motion"), color: "#7c3aed" }] }));
    }
  }
  const pain = t.pain || [];
  if (pain.length) {
    const allWeeks = Object.values(exercises).flatMap((ws) => ws.map((w) => w.week));
    const weeks = [...new Set([...allWeeks, ...pain.map((p) => p.week)])].sort();
    const worstIn = (w) => Math.max(...pain.filter((p) => p.week === w).map((p) => p.rating));
    const worst = weeks.map((w, i) => [i, pain.some((p) => p.week === w) ? worstIn(w) : NaN]);
    const fig = lineChart({ width, title: "Pain reports (worst rating per week, 0-10)", xLabels: weeks.map(weekLabel), yMin: 0, yMax: 10,
      series: [{ name: "worst pain", points: worst, color: "#b3261e" }] });
    fig.append(el("ul", { class: "small" }, pain.slice(-8).map((p) =>
      el("li", {}, `${weekLabel(p.week)}: ${p.rating}/10 ${p.location || ""}${p.note ? ` — ${p.note}` : ""} `,
        el("a", { href: `/sessions/${p.session_id}` }, "session")))));
    charts.push(fig);
  }
  box.replaceChildren(...charts);
  document.getElementById("trends-empty").hidden = charts.length > 0;
}

async function renderSuggestion(p) {
  const box = document.getElementById("suggestion");
  let s;
  try {
    s = await api(`/api/patients/${pid}/level-suggestion`);
  } catch {
    box.hidden = true;
    return;
  }
  box.hidden = !s.suggest;
  document.getElementById("level-note").textContent = s.suggest ? "" : `Next level: ${s.reason}`;
  if (!s.suggest) return;
  document.getElementById("suggestion-text").textContent =
    `${p.display_name || p.username} could move from ${pretty(p.level)} to ${pretty(s.to_level)}: ${s.reason}`;
  const accept = document.getElementById("accept-level");
  accept.textContent = `Move up to ${pretty(s.to_level)}`;
  accept.onclick = async () => {
    const updated = await api(`/api/patients/${pid}/level`, { method: "POST", body: { level: s.to_level, accept: true } });
    await refresh(updated);
    setStatus(document.getElementById("plan-msg"), `Moved to ${pretty(s.to_level)}; that level's programme is assigned.`);
  };
  document.getElementById("dismiss-level").onclick = async () => {
    box.hidden = true;
    try {
      await api(`/api/patients/${pid}/level`, { method: "POST", body: { level: s.to_level, accept: false } });
      await renderSuggestion(p); // the decline is recorded: says when it will be suggested again
      setStatus(document.getElementById("plan-msg"), `Staying at ${pretty(p.level)} for now.`);
    } catch (err) {
      setStatus(document.getElementById("plan-msg"), err.message, true);
    }
  };
}

let programmes = [];
let names = new Map(); // catalog id -> exercise name
async function refresh(p) {
  renderPlan(p, programmes);
  await renderSuggestion(p);
}

runPage(async () => {
  const [p, progs, trends, sessions, catalog] = await Promise.all([
    api(`/api/patients/${pid}`),
    api("/api/programmes"),
    api(`/api/patients/${pid}/trends`),
    api(`/api/sessions?patient_id=${pid}`),
    api("/api/exercises").catch(() => []),
  ]);
  names = new Map(listOf(catalog, "exercises").map((sp) => [sp.id, sp.name]));
  programmes = listOf(progs, "programmes");
  await refresh(p);
  renderTrends(trends);
  document.querySelector("#sessions-table tbody").replaceChildren(...listOf(sessions, "sessions").map((row) => sessionRow(row, names)));
  const form = document.getElementById("plan-form");
  const msg = document.getElementById("plan-msg");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { level: form.level.value, keep_videos: form.keep_videos.checked,
      programme_id: form.programme_id.value === "" ? null : Number(form.programme_id.value) };
    try {
      const updated = await api(`/api/patients/${pid}`, { method: "PATCH", body });
      await refresh(updated);
      setStatus(msg, "Saved.");
    } catch (err) {
      setStatus(msg, err.message, true);
    }
  });
  document.getElementById("plan-fields").disabled = false; // ready: the form shows the stored values
});
