// Therapist: the list of own patients (level, last session, adherence, flags) and a form to add one.
import { api, badge, el, fmtDate, listOf, pretty, runPage, setStatus } from "./api.js";

const FLAG_TEXT = { pain: "pain reported", pain_reported: "pain reported", form_worse: "form getting worse",
  form_getting_worse: "form getting worse", inactive: "no recent sessions", level_up: "ready to move up" };

function flagBadge(flag) {
  const key = typeof flag === "string" ? flag : flag.type || flag.kind || flag.code || "";
  const text = typeof flag === "string" ? FLAG_TEXT[flag] || pretty(flag) : flag.message || FLAG_TEXT[key] || pretty(key);
  const kind = key.startsWith("pain") ? "bad" : key.startsWith("level") ? "good" : "warn";
  return badge(text, kind);
}

function adherenceCell(p) {
  const done = p.sessions_done ?? 0;
  const planned = p.sessions_planned ?? 0;
  const ratio = p.adherence ?? (planned ? done / planned : null);
  const pct = ratio === null || ratio === undefined ? null : Math.round(100 * Math.min(ratio, 1));
  const meter = el("span", { class: "meter", "aria-hidden": "true" }, el("span", { style: `width:${pct ?? 0}%` }));
  if (p.adherence_text) return el("td", {}, meter, p.adherence_text);
  return el("td", {}, meter, `${done} of ${planned}`, pct === null ? "" : ` (${pct}%)`);
}

async function load() {
  const patients = listOf(await api("/api/patients"), "patients");
  const rows = patients.map((p) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: `/therapist/patients/${p.id}` }, p.display_name || p.username)),
      el("td", {}, pretty(p.level)),
      el("td", {}, p.last_session_at ? fmtDate(p.last_session_at) : "never"),
      adherenceCell(p),
      el("td", {}, (p.flags || []).length ? (p.flags || []).map(flagBadge) : el("span", { class: "muted" }, "none")),
    ),
  );
  document.querySelector("#patients-table tbody").replaceChildren(...rows);
  document.getElementById("patients-table").hidden = patients.length === 0;
  document.getElementById("patients-empty").hidden = patients.length > 0;
  if (!patients.length) document.getElementById("new-patient").open = true;
}

runPage(async () => {
  await load();
  const form = document.getElementById("patient-form");
  const msg = document.getElementById("patient-form-msg");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    try {
      const p = await api("/api/patients", { method: "POST", body });
      setStatus(msg, `Added ${p.display_name || p.username}.`);
      form.reset();
      await load();
    } catch (err) {
      setStatus(msg, err.message, true);
    }
  });
  form.querySelector("button[type=submit]").disabled = false;
});
