// Upload a recorded video: send it (with progress), follow the analysis job, then show the result.
import { api, el, listOf, pretty, runPage, showError, textOf } from "./api.js";

const form = document.getElementById("upload-form");
const params = new URLSearchParams(location.search);
const uploadBar = document.getElementById("upload-progress");
const jobBar = document.getElementById("job-progress");
const jobText = document.getElementById("job-text");
const cancelBtn = document.getElementById("cancel-job");
const retryBtn = document.getElementById("retry-job");
const uploadError = document.getElementById("upload-error");
let jobId = null;
let polling = null;

function send(formData) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) uploadBar.value = (100 * e.loaded) / e.total;
    });
    xhr.addEventListener("load", () => {
      const data = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else if (xhr.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      else reject(new Error(typeof data.detail === "string" ? data.detail : data.title || `Upload failed (${xhr.status}).`));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload was interrupted; check the connection and try again.")));
    xhr.send(formData);
  });
}

const DONE = new Set(["done", "completed"]);
const ENDED = new Set(["done", "completed", "failed", "cancelled", "interrupted"]);

async function follow() {
  clearTimeout(polling);
  let job;
  try {
    job = await api(`/api/jobs/${jobId}`);
  } catch (err) {
    jobText.textContent = err.message;
    polling = setTimeout(follow, 3000);
    return;
  }
  jobBar.value = Number(job.progress || 0);
  const status = job.status;
  cancelBtn.hidden = ENDED.has(status);
  retryBtn.hidden = !(status === "failed" || status === "cancelled" || status === "interrupted");
  if (!ENDED.has(status)) {
    jobText.textContent = status === "queued" ? "Waiting for its turn…" : `Analysing: ${Math.round(jobBar.value)}%`;
    polling = setTimeout(follow, 1000);
    return;
  }
  if (!DONE.has(status)) {
    jobText.textContent = status === "cancelled" ? "The analysis was cancelled." : `The analysis failed: ${job.error || "unknown error"}`;
    return;
  }
  jobBar.value = 100;
  jobText.textContent = "Analysis finished.";
  await showResult(job.session_id);
}

async function showResult(sessionId) {
  const s = await api(`/api/sessions/${sessionId}`);
  const reps = s.reps;
  const holds = s.holds;
  const count = s.rep_count;
  const scores = reps.map((r) => r.score).filter(Number.isFinite);
  const avg = scores.length ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : null;
  const parts = [`${count} ${count === 1 ? "repetition" : "repetitions"}`];
  const rec = s.recognition;
  if (rec && rec.method !== "given") parts.unshift(`recognised as ${pretty(rec.exercise)} (${Math.round(100 * rec.confidence)}% sure)`);
  if (avg !== null) parts.push(`average score ${avg}`);
  if (holds.length) parts.push(`${holds.length} ${holds.length === 1 ? "hold" : "holds"} (longest ${Math.max(...holds.map((h) => h.duration_s)).toFixed(1)} s)`);
  const warnings = s.warnings;
  if (warnings.length) parts.push(`${warnings.length} form ${warnings.length === 1 ? "warning" : "warnings"}`);
  document.getElementById("result-text").textContent = parts.join(", ");
  document.getElementById("result-notices").replaceChildren(...s.notices.map((n) => el("li", {}, n)));
  const link = document.getElementById("result-link");
  link.href = `/sessions/${sessionId}`;
  const box = document.getElementById("result-box");
  box.hidden = false;
  link.focus();
}

runPage(async (me) => {
  const specs = listOf(await api("/api/exercises"), "exercises");
  const select = form.exercise;
  select.replaceChildren(...specs.map((sp) => el("option", { value: sp.id }, sp.name || pretty(sp.id))));
  if (params.get("exercise")) select.value = params.get("exercise");
  const cameraText = document.getElementById("exercise-camera");
  const showCamera = () => {
    const sp = specs.find((x) => x.id === select.value);
    cameraText.textContent = sp && sp.camera ? `Camera: ${textOf(sp.camera)}` : "";
  };
  select.addEventListener("change", showCamera);
  showCamera();
  if (me.role === "therapist") {
    const patients = listOf(await api("/api/patients"), "patients");
    form.patient_id.replaceChildren(...patients.map((p) => el("option", { value: p.id }, p.display_name || p.username)));
    if (params.get("patient_id")) form.patient_id.value = params.get("patient_id");
    document.getElementById("patient-field").hidden = false;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.file.files[0];
    uploadError.hidden = true;
    if (!file) return showError(new Error("Choose a video file first."), uploadError);
    const data = new FormData();
    data.append("file", file);
    data.append("exercise", select.value);
    if (me.role === "therapist") data.append("patient_id", form.patient_id.value);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    document.getElementById("progress-box").hidden = false;
    document.getElementById("result-box").hidden = true;
    uploadBar.value = 0;
    jobBar.value = 0;
    jobText.textContent = "Sending the video…";
    try {
      const accepted = await send(data);
      uploadBar.value = 100;
      jobId = accepted.job_id;
      await follow();
    } catch (err) {
      jobText.textContent = "";
      document.getElementById("progress-box").hidden = true;
      showError(err, uploadError);
    } finally {
      button.disabled = false;
    }
  });
  form.querySelector("button[type=submit]").disabled = false;
  cancelBtn.addEventListener("click", async () => {
    try {
      await api(`/api/jobs/${jobId}/cancel`, { method: "POST" });
      await follow();
    } catch (err) {
      showError(err);
    }
  });
  retryBtn.addEventListener("click", async () => {
    try {
      await api(`/api/jobs/${jobId}/retry`, { method: "POST" });
      retryBtn.hidden = true;
      await follow();
    } catch (err) {
      showError(err);
    }
  });
});
