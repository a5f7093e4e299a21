// Therapist: built-in and own programmes.
import { api, el, listOf, pretty, runPage } from "./api.js";

runPage(async () => {
  const programmes = listOf(await api("/api/programmes"), "programmes");
  const rows = programmes.map((p) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: `/programmes/${p.id}` }, p.title || p.name)),
      el("td", {}, pretty(p.level)),
      el("td", {}, (p.items || []).map((it) => pretty(it.exercise)).join(", ")),
      el("td", {}, p.owner_id ? "you" : "built in"),
    ),
  );
  document.querySelector("#programmes-table tbody").replaceChildren(...rows);
});
