// Patient: today's programme, each exercise with its targets, how-to and camera placement.
import { api, el, listOf, pretty, runPage } from "./api.js";

function textBlock(value) {
  if (!value) return [];
  if (Array.isArray(value)) return [el("ol", {}, value.map((v) => el("li", {}, v)))];
  return String(value).split(/\n{2,}/).map((p) => el("p", {}, p));
}

export function targetText(item) {
  const parts = [];
  if (item.sets) parts.push(`${item.sets} ${item.sets === 1 ? "set" : "sets"}`);
  if (item.reps) parts.push(`${item.reps} reps`);
  if (item.hold_s) parts.push(`hold ${item.hold_s} s`);
  if (item.rest_s) parts.push(`rest ${item.rest_s} s`);
  return parts.join(" · ");
}

runPage(async () => {
  const p = await api("/api/me/programme");
  const prog = p.programme || {};
  const name = prog.title || (prog.name ? `${pretty(prog.name)} programme` : "Today's programme");
  document.getElementById("today-title").textContent = name;
  document.getElementById("today-desc").textContent = prog.description || "";
  const items = listOf(p, "items");
  const start = document.getElementById("start-all");
  if (items.length && prog.name) {
    start.href = `/exercise?programme=${encodeURIComponent(prog.name)}`;
    start.hidden = false;
  }
  const list = document.getElementById("today-items");
  list.replaceChildren(
    ...items.map((item) => {
      const title = item.name || item.exercise_name || pretty(item.exercise);
      const q = new URLSearchParams({ exercise: item.exercise });
      return el(
        "li",
        {},
        el("h2", {}, title, item.warmup ? el("span", { class: "badge" }, "warm-up") : ""),
        el("p", { class: "targets" }, targetText(item)),
        el("h3", {}, "How to"),
        ...textBlock(item.how_to || item.instructions),
        el("h3", {}, "Camera"),
        ...textBlock(item.camera || item.camera_text),
        el(
          "p",
          { class: "row" },
          el("a", { class: "btn btn-primary", href: `/exercise?${q}` }, "Start", el("span", { class: "visually-hidden" }, ` ${title}`)),
          el("a", { class: "btn", href: `/upload?${q}` }, "Upload a video", el("span", { class: "visually-hidden" }, ` of ${title}`)),
        ),
      );
    }),
  );
  if (!items.length) list.replaceChildren(el("li", {}, "Your therapist has not set a programme yet."));
});
