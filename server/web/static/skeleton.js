// Draw the pose the server found ([[x, y, visibility] * 33], normalised) on a canvas over the video.

export const CONNECTIONS = [
  [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [15, 19], [16, 20], [11, 23], [12, 24], [23, 24],
  [23, 25], [25, 27], [24, 26], [26, 28], [27, 29], [29, 31], [27, 31], [28, 30], [30, 32], [28, 32],
];
const GOOD = "#4ade80";
const FLAG = "#ffb020";
const BONE = "rgba(255,255,255,0.9)";

export function drawSkeleton(ctx, landmarks, flagged = new Set(), minVisibility = 0.3) {
  const { width: w, height: h } = ctx.canvas;
  ctx.clearRect(0, 0, w, h);
  if (!landmarks) return;
  const thick = Math.max(2, Math.round(Math.min(w, h) / 160));
  const ok = (p) => p && p[2] >= minVisibility && Number.isFinite(p[0]) && Number.isFinite(p[1]);
  ctx.lineCap = "round";
  ctx.lineWidth = thick;
  for (const [a, b] of CONNECTIONS) {
    const pa = landmarks[a];
    const pb = landmarks[b];
    if (!ok(pa) || !ok(pb)) continue;
    ctx.strokeStyle = flagged.has(a) && flagged.has(b) ? FLAG : BONE;
    ctx.beginPath();
    ctx.moveTo(pa[0] * w, pa[1] * h);
    ctx.lineTo(pb[0] * w, pb[1] * h);
    ctx.stroke();
  }
  for (let i = 11; i < landmarks.length; i++) {
    const p = landmarks[i];
    if (!ok(p)) continue;
    ctx.fillStyle = flagged.has(i) ? FLAG : GOOD;
    ctx.beginPath();
    ctx.arc(p[0] * w, p[1] * h, thick + 2, 0, 2 * Math.PI);
    ctx.fill();
  }
}
