// Exercise in the browser. Two modes (docs/web.md):
// - on device (preferred): the pose model runs in this browser (WASM); only landmark packets go over the
//   WebSocket /api/live?mode=landmarks; the skeleton is drawn from the local landmarks at the camera's rate.
// - on the server (fallback, when this browser cannot run the model): JPEG frames go to /api/live, one frame in
//   flight at a time, so a slow server lowers the frame rate instead of building a queue.
// Either way the replies (engine events and the session's state) drive the count, the hold ring and the cues.
// "Video never leaves this device" (remembered by the browser) forbids the fallback.
import { api, el, listOf, pretty, runPage, showError, textOf } from "./api.js";
import { canRunOnDevice, drawable, encodePacket, loadPose } from "./on_device_pose.js";
import { drawSkeleton } from "./skeleton.js";

const params = new URLSearchParams(location.search);
const exerciseParam = params.get("exercise");
const programmeParam = params.get("programme");
const MAX_SIDE = 640; // frames sent are at most this many pixels on their long side
const MIN_INTERVAL_MS = 1000 / 15; // at most 15 frames per second
const REPLY_TIMEOUT_MS = 5000;
const MIN_PACKET_INTERVAL_MS = 1000 / 30; // landmark packets: at most 30 per second (the server allows 40)
const MAX_BUFFERED_BYTES = 64 * 1024; // a stalled connection skips packets instead of queueing them
const poseParam = params.get("pose"); // "device" or "server": force a mode (tests, measuring)
const modelParam = params.get("model") || "auto"; // on-device model: lite, full, or auto (by measured speed)
const ONLY_DEVICE_KEY = "formcheck.videoStaysOnDevice";

const $ = (id) => document.getElementById(id);
const video = $("camera");
const overlay = $("overlay");
const ctx = overlay.getContext("2d");
const grab = document.createElement("canvas");
const ui = {
  count: $("rep-count"), target: $("rep-target"), holdBox: $("hold-box"), ring: $("hold-ring"), holdText: $("hold-text"),
  cue: $("cue"), state: $("state-msg"), conn: $("conn"), start: $("start"), stop: $("stop"), next: $("next"),
  pain: $("pain"), title: $("exercise-title"), setInfo: $("set-info"), unit: $("rep-unit"),
  poseMode: $("pose-mode"), onlyDevice: $("only-device"),
};

let catalog = new Map();
let stream = null;
let ws = null;
let running = false;
let paused = false;
let inFlight = false;
let lastSend = 0;
let sentAt = 0;
let t0 = 0;
let sessionId = null;
let repCount = 0;
let holdCount = 0;
let cueUntil = 0;
let currentExercise = exerciseParam;
let ended = false;
let frames = 0;
let fpsStart = 0;
let items = [];
let setTarget = null; // targets of the current set, from the server's session / set messages
let lastError = "";
let mode = "frames"; // "landmarks" when the pose model runs on this device
let pose = null; // { landmarker, model } once loaded (kept for the next Start)
let lastPacket = 0;
let lastVideoTime = -1;
let flagged = new Set();
let personSeen = false;
let skipped = 0;

function setState(text) {
  ui.state.textContent = text;
  ui.state.hidden = !text;
}

function showCue(text, seconds = 3) {
  if (!text) return;
  ui.cue.textContent = text;
  ui.cue.hidden = false;
  cueUntil = performance.now() + seconds * 1000;
}

function showHowTo(exerciseId) {
  const spec = catalog.get(exerciseId);
  if (!spec) return;
  ui.title.textContent = spec.name || pretty(exerciseId);
  const how = spec.instructions || spec.how_to || "";
  $("how-to-text").replaceChildren(
    ...(Array.isArray(how) ? [el("ol", {}, how.map((h) => el("li", {}, h)))] : [el("p", {}, how)]),
  );
  $("camera-text").textContent = textOf(spec.camera);
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser cannot use a camera here. Open the page over https (or on this computer).");
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, facingMode: "user" }, // no height: never crop the body away
      audio: false,
    });
  } catch (err) {
    if (err.name === "NotAllowedError") throw new Error("The camera was not allowed. Allow it in the browser's address bar and press Start again.");
    if (err.name === "NotFoundError" || err.name === "OverconstrainedError") throw new Error("No camera was found. Connect a camera, or upload a video instead.");
    if (err.name === "NotReadableError") throw new Error("The camera is busy in another program. Close it there and press Start again.");
    throw new Error(`The camera could not be opened (${err.message || err.name}).`);
  }
}

function liveUrl() {
  const q = new URLSearchParams();
  if (programmeParam) q.set("programme", programmeParam);
  else q.set("exercise", exerciseParam || "auto");
  q.set("mode", mode);
  if (mode === "landmarks") q.set("model", pose.model);
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live?${q}`;
}

/** On-device pose when this browser can run it; the server's otherwise, unless the video must stay here. */
async function choosePoseMode() {
  const onlyDevice = poseParam === "device" || ui.onlyDevice.checked;
  let why = "";
  if (poseParam !== "server") {
    try {
      if (!canRunOnDevice()) throw new Error("this browser or server cannot run the on-device pose model");
      pose = pose || (await loadPose(video, modelParam, setState));
      mode = "landmarks";
      ui.poseMode.textContent = `Pose found on this device (${pose.model} model): no video leaves this device.`;
      return true;
    } catch (err) {
      why = err.message || String(err);
      if (onlyDevice) {
        showError(new Error(`The pose model cannot run in this browser (${why}), and the video must not leave this `
          + "device, so exercising here is not possible. Try another browser, or upload a video instead."));
        return false;
      }
    }
  } else why = "chosen for this page";
  mode = "frames";
  ui.poseMode.textContent = `Pose found by the clinic's server (${why}): frames of the video are sent to it.`;
  return true;
}

async function start() {
  document.getElementById("page-error").hidden = true;
  ui.start.disabled = true;
  ended = false;
  lastError = "";
  repCount = 0;
  holdCount = 0;
  setTarget = null;
  ui.count.textContent = "0";
  ui.next.disabled = false;
  $("summary").hidden = true;
  try {
    stream = await openCamera();
    video.srcObject = stream;
    await video.play();
  } catch (err) {
    ui.start.disabled = false;
    showError(err);
    setState("");
    return;
  }
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
  if (!(await choosePoseMode())) {
    finishUi();
    setState("");
    return;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  setState("Connecting…");
  ws = new WebSocket(liveUrl());
  ws.binaryType = "arraybuffer";
  ws.addEventListener("open", () => {
    running = true;
    t0 = performance.now();
    fpsStart = t0;
    frames = 0;
    ui.stop.disabled = false;
    ui.next.hidden = !programmeParam;
    setState("Get into position");
    if (mode === "landmarks") {
      lastVideoTime = -1;
      detectLoop();
    } else pump();
  });
  ws.addEventListener("message", (e) => typeof e.data === "string" && handle(JSON.parse(e.data)));
  ws.addEventListener("close", (e) => {
    running = false;
    if (!ended) {
      const why = e.code === 4401 ? "You are logged out; log in again."
        : lastError || e.reason || "The connection to the server closed.";
      showError(new Error(why));
      finishUi();
    }
  });
  ws.addEventListener("error", () => ui.conn.textContent = "Connection problem.");
}

function nextVideoFrame(fn) {
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(fn);
  else requestAnimationFrame(fn);
}

// On-device mode: each new camera frame -> local pose -> skeleton drawn now, landmark packet to the server.
function detectLoop() {
  if (!running || !ws || ws.readyState !== WebSocket.OPEN) return;
  nextVideoFrame(() => {
    if (!running) return;
    const now = performance.now();
    if (!paused && video.readyState >= 2 && video.currentTime !== lastVideoTime) {
      lastVideoTime = video.currentTime;
      let result;
      try {
        result = pose.landmarker.detectForVideo(video, now);
      } catch (err) {
        showError(new Error(`The pose model stopped working in this browser (${err.message || err}). Press Stop, then Start again.`));
        paused = true;
        return;
      }
      const points = drawable(result);
      personSeen = !!points;
      drawSkeleton(ctx, points, flagged);
      frames += 1;
      const elapsed = (performance.now() - fpsStart) / 1000;
      if (elapsed > 2) ui.conn.textContent = `${(frames / elapsed).toFixed(1)} frames per second analysed on this device`;
      if (now - lastPacket >= MIN_PACKET_INTERVAL_MS && ws.readyState === WebSocket.OPEN) {
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) skipped += 1;
        else {
          lastPacket = now;
          ws.send(encodePacket((now - t0) / 1000, video.videoWidth, video.videoHeight, result));
        }
      }
    }
    detectLoop();
  });
}

function pump() {
  if (mode !== "frames" || !running || paused || inFlight || !ws || ws.readyState !== WebSocket.OPEN) return;
  const now = performance.now();
  const wait = MIN_INTERVAL_MS - (now - lastSend);
  if (wait > 0) {
    setTimeout(pump, wait);
    return;
  }
  if (video.readyState < 2) {
    setTimeout(pump, 50);
    return;
  }
  inFlight = true;
  lastSend = now;
  const g = grab.getContext("2d");
  g.drawImage(video, 0, 0, grab.width, grab.height);
  const t = (now - t0) / 1000;
  grab.toBlob(
    (blob) => {
      if (!blob || !running || ws.readyState !== WebSocket.OPEN) {
        inFlight = false;
        return;
      }
      ws.send(JSON.stringify({ type: "frame_time", t }));
      ws.send(blob);
      sentAt = performance.now();
      setTimeout(() => {
        if (inFlight && performance.now() - sentAt >= REPLY_TIMEOUT_MS) {
          inFlight = false;
          ui.conn.textContent = "The server is slow to answer…";
          pump();
        }
      }, REPLY_TIMEOUT_MS);
    },
    "image/jpeg",
    0.75,
  );
}

function handle(msg) {
  switch (msg.type) {
    case "session":
      sessionId = msg.session_id;
      items = msg.items || [];
      if (items[0]) {
        setTarget = items[0];
        if (items[0].name) ui.title.textContent = items[0].name;
      }
      break;
    case "set":
      setTarget = msg;
      repCount = 0;
      holdCount = 0;
      if (msg.done) setState("That was the last exercise: press Stop to save the session.");
      else {
        currentExercise = msg.exercise;
        showHowTo(msg.exercise);
        ui.setInfo.textContent = `Set ${msg.set_index}`;
        setState("Next: get into position");
      }
      ui.next.disabled = !!msg.done;
      break;
    case "pain":
      showCue(msg.advice || "Stop and rest.", 30);
      break;
    case "frame":
      inFlight = false;
      onFrame(msg);
      pump();
      break;
    case "summary":
      showSummary(msg.report || {});
      break;
    case "error":
      inFlight = false;
      lastError = msg.detail || msg.message || "The server reported an error.";
      showError(new Error(lastError));
      pump();
      break;
    default:
      break;
  }
}

function onFrame(msg) {
  const snap = msg.snapshot || {};
  flagged = new Set((snap.flagged_joints || []).filter(Number.isInteger));
  if (mode === "frames") {
    frames += 1;
    const elapsed = (performance.now() - fpsStart) / 1000;
    if (elapsed > 2) ui.conn.textContent = `${(frames / elapsed).toFixed(1)} frames per second analysed`;
    drawSkeleton(ctx, msg.landmarks, flagged);
    personSeen = !!msg.landmarks;
  }
  for (const ev of msg.events || []) {
    if (ev.type === "rep") repCount = ev.index ?? repCount + 1;
    else if (ev.type === "hold") holdCount += 1;
    // warnings: every one is in the events (and stored); the cue shown is snapshot.cue, throttled like the preview's
    else if (ev.type === "state" && ev.message) setState(ev.message);
  }
  if (snap.exercise && snap.exercise !== currentExercise) {
    currentExercise = snap.exercise;
    showHowTo(currentExercise);
    repCount = 0;
    holdCount = 0;
  }
  if (snap.name) ui.title.textContent = snap.name;
  const holdKind = snap.kind === "hold";
  const count = holdKind ? holdCount : Number.isInteger(snap.reps) ? snap.reps : repCount;
  if (ui.count.textContent !== String(count)) ui.count.textContent = String(count);
  ui.unit.textContent = holdKind ? (count === 1 ? "hold" : "holds") : "reps";
  if (Number.isFinite(snap.rate_per_min)) ui.setInfo.textContent = `${snap.rate_per_min.toFixed(0)} per minute`;
  const targetReps = setTarget?.target_reps ?? setTarget?.reps ?? snap.target_reps;
  ui.target.textContent = targetReps ? `/ ${targetReps}` : "";
  if (snap.set_index && snap.sets) ui.setInfo.textContent = `Set ${snap.set_index} of ${snap.sets}`;
  const isHold = snap.kind === "hold" || (snap.hold_target_s ?? 0) > 0;
  ui.holdBox.hidden = !isHold;
  if (isHold) {
    const held = Number(snap.hold_s || 0);
    const target = Number(setTarget?.target_hold_s ?? setTarget?.hold_s ?? snap.hold_target_s ?? 0);
    const frac = target > 0 ? Math.min(1, held / target) : 0;
    ui.ring.setAttribute("stroke-dasharray", `${(100 * frac).toFixed(1)} 100`);
    ui.holdText.textContent = target ? `${held.toFixed(0)}/${target.toFixed(0)} s` : `${held.toFixed(0)} s`;
  }
  if (snap.cue) showCue(snap.cue, 1);
  if (performance.now() > cueUntil) ui.cue.hidden = true;
  if (!personSeen) setState("Step into view: the whole body should be seen");
  else if (snap.state !== undefined) setState(snap.message || (snap.holding ? "Hold it" : ""));
  else if (ui.state.textContent.startsWith("Step into view")) setState("");
}

function stopCamera() {
  running = false;
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
}

function finishUi() {
  stopCamera();
  ui.stop.disabled = true;
  ui.next.hidden = true;
  ui.start.disabled = false;
}

function stop() {
  if (!ws || ws.readyState !== WebSocket.OPEN) return finishUi();
  ws.send(JSON.stringify({ type: "stop" }));
  running = false;
  ui.stop.disabled = true;
  setState("Saving the session…");
  setTimeout(() => {
    if (!ended) showSummary(null);
  }, 10000);
}

function showSummary(report) {
  ended = true;
  finishUi();
  if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000, "done");
  const box = $("summary");
  const parts = [];
  if (report) {
    const reps = report.rep_count ?? (report.reps || []).length;
    parts.push(`${reps} ${reps === 1 ? "repetition" : "repetitions"}`);
    if ((report.holds || []).length) parts.push(`${report.holds.length} holds`);
    if ((report.warnings || []).length) parts.push(`${report.warnings.length} form tips`);
    if ((report.pain || []).length) parts.push("pain reported: please rest and tell your therapist if it does not ease");
  } else {
    parts.push("The session was stopped.");
  }
  $("summary-text").textContent = parts.join(", ");
  if (sessionId) $("summary-link").href = `/sessions/${sessionId}`;
  setState("Finished");
  box.hidden = false;
  box.focus();
}

function setUpPainDialog() {
  const dialog = $("pain-dialog");
  const rating = $("rating");
  rating.replaceChildren(
    ...Array.from({ length: 11 }, (_, i) =>
      el("label", {}, el("input", { type: "radio", name: "rating", value: i, required: true }), String(i)),
    ),
  );
  ui.pain.addEventListener("click", () => {
    paused = true;
    dialog.showModal();
    rating.querySelector("input").focus();
  });
  dialog.addEventListener("close", async () => {
    const form = $("pain-form");
    if (dialog.returnValue !== "send") {
      paused = false;
      pump();
      return;
    }
    const chosen = form.querySelector("input[name=rating]:checked");
    const pain = {
      type: "pain",
      rating: chosen ? Number(chosen.value) : 5,
      location: form.location.value,
      note: form.note.value.trim(),
    };
    form.reset();
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(pain));
      paused = false;
      stop();
    } else if (sessionId) {
      try {
        await api(`/api/sessions/${sessionId}/pain`, { method: "POST", body: { ...pain, type: undefined } });
      } catch (err) {
        showError(err);
      }
    }
    showCue("Stop exercising and rest. Your therapist will see your pain report.", 30);
    setState("Stopped because of pain");
  });
  // "Go back" must not need a rating; "send" does.
  $("pain-form").addEventListener("submit", (e) => {
    if (e.submitter && e.submitter.value === "send" && !$("pain-form").querySelector("input[name=rating]:checked")) {
      e.preventDefault();
      rating.querySelector("input").focus();
      rating.closest("fieldset").classList.add("alert");
    }
  });
}

runPage(async (me) => {
  setUpPainDialog();
  if (!exerciseParam && !programmeParam) {
    setState("");
    showError(new Error("Choose an exercise first: open Today's programme and press Start on one."));
    return;
  }
  const mirror = $("mirror");
  mirror.checked = localStorage.getItem("formcheck.mirror") !== "0";
  const applyMirror = () => {
    $("stage").classList.toggle("no-mirror", !mirror.checked);
    localStorage.setItem("formcheck.mirror", mirror.checked ? "1" : "0");
  };
  mirror.addEventListener("change", applyMirror);
  applyMirror();
  // "video never leaves this device": the account's setting (the patient's or their therapist's, kept by the server,
  // which then refuses video frames), else this browser's
  ui.onlyDevice.checked = !!(me && me.video_on_device_only) || localStorage.getItem(ONLY_DEVICE_KEY) === "1";
  ui.onlyDevice.addEventListener("change", async () => {
    localStorage.setItem(ONLY_DEVICE_KEY, ui.onlyDevice.checked ? "1" : "0");
    try {
      await api("/api/me", { method: "PATCH", body: { video_on_device_only: ui.onlyDevice.checked } });
    } catch (err) {
      showError(err);
    }
  });
  ui.poseMode.textContent = poseParam !== "server" && canRunOnDevice()
    ? "The pose model runs on this device when it can: no video leaves it."
    : "Pose is found by the clinic's server: frames of the video are sent to it.";
  ui.start.addEventListener("click", start);
  ui.start.disabled = false;
  ui.stop.addEventListener("click", stop);
  ui.next.addEventListener("click", () => ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: "next" })));
  if (programmeParam) ui.title.textContent = `Programme: ${pretty(programmeParam)}`;
  try {
    const specs = listOf(await api("/api/exercises"), "exercises");
    catalog = new Map(specs.map((sp) => [sp.id, sp]));
  } catch {
    catalog = new Map(); // the how-to text is a nicety; exercising works without it
  }
  if (exerciseParam && catalog.size && !catalog.has(exerciseParam)) {
    ui.start.disabled = true;
    showError(new Error(`There is no exercise called "${exerciseParam}". Open Today's programme and press Start on one.`));
    return;
  }
  if (exerciseParam) showHowTo(exerciseParam);
  window.addEventListener("pagehide", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
    stopCamera();
    if (pose) pose.landmarker.close();
  });
});
