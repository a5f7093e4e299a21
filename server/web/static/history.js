// A patient's own sessions, newest first.
import { api, listOf, runPage, sessionRow } from "./api.js";

runPage(async () => {
  const [data, catalog] = await Promise.all([api("/api/sessions"), api("/api/exercises").catch(() => [])]);
  const sessions = listOf(data, "sessions");
  const names = new Map(listOf(catalog, "exercises").map((sp) => [sp.id, sp.name]));
  const body = document.querySelector("#history-table tbody");
  body.replaceChildren(...sessions.map((row) => sessionRow(row, names)));
  document.getElementById("history-empty").hidden = sessions.length > 0;
  document.getElementById("history-table").hidden = sessions.length === 0;
});
