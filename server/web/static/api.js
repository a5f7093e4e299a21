// Shared helpers: calls to the JSON API (cookie auth), the signed-in user, and small DOM helpers.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    this.status = status;
    this.title = title;
  }
}

function problemText(data, fallback) {
  if (!data || typeof data !== "object") return fallback;
  const d = data.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => e.msg || JSON.stringify(e)).join("; ");
  return data.title || fallback;
}

/** Call the API; returns parsed JSON (or text). Throws ApiError with a readable message. */
export async function api(path, { method = "GET", body, form, redirectOn401 = true } = {}) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (form !== undefined) opts.body = form;
  else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new ApiError(0, "No connection", "The server cannot be reached. Check the connection and try again.");
  }
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (res.status === 401 && redirectOn401) {
    goToLogin();
    throw new ApiError(401, "Logged out", "Please log in again.");
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.title) || res.statusText, problemText(data, res.statusText));
  return data;
}

export function goToLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

export function homeFor(role) {
  return role === "therapist" ? "/therapist" : "/patient";
}

/** Load the signed-in user, fill the header, and send users of another role to their own start page. */
export async function startPage() {
  const me = await api("/api/me");
  const who = document.getElementById("who");
  if (who) who.textContent = `${me.display_name || me.username} (${me.role})`;
  for (const ul of document.querySelectorAll("[data-for]")) ul.hidden = ul.dataset.for !== me.role;
  for (const a of document.querySelectorAll(".mainnav a")) {
    if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
  }
  const needed = document.body.dataset.role;
  if (needed && needed !== me.role) {
    location.replace(homeFor(me.role));
    throw new ApiError(403, "Wrong page", "This page is for another role.");
  }
  return me;
}

/** Run a page's main function, showing any error in the page's alert box instead of failing silently. */
export async function runPage(main) {
  try {
    const me = await startPage();
    await main(me);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 && err.title === "Wrong page")) return;
    if (err instanceof ApiError && err.status === 404) {
      // the page's subject does not exist: show only the message, not an empty form or table
      for (const node of document.querySelectorAll("#main > :not(#page-error)")) node.hidden = true;
    }
    showError(err);
  }
}

export function showError(err, box = document.getElementById("page-error")) {
  if (!box) return;
  box.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  box.hidden = false;
}

/** Create an element: el("a", {href: "/x", class: "btn"}, "text", child). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

export function fmtDate(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function fmtSeconds(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return "–";
  const v = Number(s);
  if (v < 60) return `${v.toFixed(1)} s`;
  const m = Math.floor(v / 60);
  return `${m}:${String(Math.round(v - 60 * m)).padStart(2, "0")} min`;
}

export function pretty(id) {
  return String(id || "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function badge(text, kind = "") {
  return el("span", { class: `badge ${kind ? `badge-${kind}` : ""}` }, text);
}

export function setStatus(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("alert", isError);
}

/** A row of the sessions tables (patient page and history). */
export function sessionRow(s, names = new Map()) {
  const reps = s.rep_count; // a SessionSummary of /api/sessions
  const warnings = s.warning_count;
  const pain = s.pain_count;
  const status = s.status || "";
  const kind = status === "failed" ? "bad" : status === "completed" ? "good" : "warn";
  return el(
    "tr",
    {},
    el("td", {}, el("a", { href: `/sessions/${s.id}` }, fmtDate(s.started_at))),
    el("td", {}, s.programme ? `${pretty(s.programme)} programme` : names.get(s.title) || pretty(s.title || s.exercise || "")),
    el("td", {}, s.kind || ""),
    el("td", {}, badge(status, kind)),
    el("td", {}, reps ?? "–"),
    el("td", {}, warnings ?? "–"),
    el("td", {}, pain ? badge(String(pain), "bad") : "–"),
  );
}

export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

/** Plain text from a string, a list of strings or a {hint|text} object (catalog fields vary). */
export function textOf(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(textOf).join(" ");
  if (typeof value === "object") return value.hint || value.text || value.view || "";
  return String(value);
}
