// On-device pose: MediaPipe's web runtime (@mediapipe/tasks-vision, vendored by `make setup`, served by the
// server) runs OUR pose bundles in the browser, so the video never leaves the device. The page sends only
// landmark packets (the format of server/services/live_messages.py) over the WebSocket.

const MAGIC = [0x46, 0x43, 0x4c, 0x31]; // "FCL1"
const HEADER_BYTES = 18;
const N = 33;
export const PACKET_BYTES = HEADER_BYTES + 4 * N * 8;
const FULL_MAX_MS = 45; // the full model is kept when a frame takes at most this long here (about 20 fps)
const MODEL_KEY = "formcheck.poseModel";

/** The runtime's URL folder (from the page), or null when the server has no vendored runtime. */
export function runtimeBase() {
  return document.getElementById("live-config")?.dataset.runtime || null;
}

/** Whether this browser can try the on-device model at all. */
export function canRunOnDevice() {
  return typeof WebAssembly === "object" && !!runtimeBase();
}

async function createLandmarker(vision, fileset, model) {
  return vision.PoseLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: `/assets/models/pose_landmarker_${model}.task`, delegate: "CPU" },
    runningMode: "VIDEO",
    numPoses: 1,
  });
}

/** Time a few detections on the live video (ms per frame, median). */
async function timeModel(landmarker, video, frames = 6) {
  const times = [];
  for (let i = 0; i < frames; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    const t = performance.now();
    landmarker.detectForVideo(video, t);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Load the runtime and a pose model: `model` "lite" or "full", or "auto" (full when this device runs it fast
 * enough, measured on the live video, else lite; the choice is remembered). Throws when it cannot run here.
 */
export async function loadPose(video, model = "auto", onStatus = () => {}) {
  const base = runtimeBase();
  if (!base) throw new Error("the on-device pose runtime is not installed on the server (make setup)");
  onStatus("Loading the pose model on this device…");
  const vision = await import(`${base}/vision_bundle.mjs`);
  const fileset = await vision.FilesetResolver.forVisionTasks(base);
  let chosen = model === "auto" ? localStorage.getItem(MODEL_KEY) || "measure" : model;
  let msPerFrame = null;
  if (chosen === "measure") {
    const full = await createLandmarker(vision, fileset, "full");
    msPerFrame = await timeModel(full, video);
    if (msPerFrame <= FULL_MAX_MS) {
      localStorage.setItem(MODEL_KEY, "full");
      return { landmarker: full, model: "full", msPerFrame };
    }
    full.close();
    chosen = "lite";
    localStorage.setItem(MODEL_KEY, "lite");
  }
  const landmarker = await createLandmarker(vision, fileset, chosen);
  return { landmarker, model: chosen, msPerFrame };
}

/** One landmark packet: time (s), video size, then 33 x (x, y, z, visibility, presence) and 33 x world xyz. */
export function encodePacket(t, width, height, result) {
  const lms = result && result.landmarks && result.landmarks[0];
  const world = result && result.worldLandmarks && result.worldLandmarks[0];
  const present = !!(lms && world && lms.length === N && world.length === N);
  const buffer = new ArrayBuffer(present ? PACKET_BYTES : HEADER_BYTES);
  const view = new DataView(buffer);
  MAGIC.forEach((b, i) => view.setUint8(i, b));
  view.setFloat64(4, t, true);
  view.setUint16(12, width, true);
  view.setUint16(14, height, true);
  view.setUint8(16, present ? Math.min(result.landmarks.length, 2) : 0);
  view.setUint8(17, 0);
  if (!present) return buffer;
  let o = HEADER_BYTES;
  for (const p of lms) {
    for (const v of [p.x, p.y, p.z, p.visibility ?? 0, p.presence ?? p.visibility ?? 0]) {
      view.setFloat32(o, Number.isFinite(v) ? v : 0, true);
      o += 4;
    }
  }
  for (const p of world) {
    for (const v of [p.x, p.y, p.z]) {
      view.setFloat32(o, Number.isFinite(v) ? v : 0, true);
      o += 4;
    }
  }
  return buffer;
}

/** The landmarks as the skeleton drawer wants them ([[x, y, visibility]] * 33), or null. */
export function drawable(result) {
  const lms = result && result.landmarks && result.landmarks[0];
  return lms ? lms.map((p) => [p.x, p.y, p.visibility ?? 1]) : null;
}
