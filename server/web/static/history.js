// A patient's own sessions, newest first.
import { api, listOf, runPage, sessionRow } from "./api.js";

runPage(async () => {
  const sessions = listOf(await api("/api/sessions"), "sessions");
  const body = document.querySelector("#history-table tbody");
  body.replaceChildren(...sessions.map(sessionRow));
  document.getElementById("history-empty").hidden = sessions.length > 0;
  document.getElementById("history-table").hidden = sessions.length === 0;
});
