// Log in: the API checks the password and sets the HttpOnly login cookie; then go where the user was going.
import { api, homeFor } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const params = new URLSearchParams(location.search);
document.getElementById("bye").hidden = !params.has("bye");

function safeNext(next) {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    return;
  }
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const body = new URLSearchParams({ username, password });
    const token = await api("/api/auth/token", { method: "POST", form: body, redirectOn401: false });
    location.assign(safeNext(params.get("next")) || homeFor(token.role));
  } catch (err) {
    error.textContent = err.status === 401 || err.status === 400 ? "Wrong username or password." : err.message;
    error.hidden = false;
    form.password.select();
  } finally {
    button.disabled = false;
  }
});
