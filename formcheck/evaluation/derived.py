"""Derived evaluation cases: landmark streams transformed so that their ground truth follows from the transform.

- ``mirrored``: the horizontally flipped image (left and right swap); same count, same holds.
- ``speed xF``: the movement played F times faster (frames resampled at the clip's own frame rate, landmarks
  interpolated); same count, hold times and their tolerance divided by F. Kept only when the result is
  physiologically plausible (:func:`plausible_speed`).
- ``looped x3``: a one-repetition clip repeated three times, when it starts and ends in the same posture
  (:func:`seam_gap`); the seam is a short linear cross-fade between the end and the start posture.
- ``dropout``: 10% of the frames replaced by "nobody" in short bursts (0.1-0.3 s); same count, same holds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from formcheck.io.recording import PoseStream
from formcheck.pose.landmarks import MIRROR

SPEEDS = (0.5, 0.75, 1.5, 2.0)
LOOP_TIMES = 3
DROPOUT_FRACTION = 0.10
DROPOUT_BURST_S = (0.1, 0.3)
SEAM_MAX_GAP = 0.25  # torso lengths: the end posture is "the same" as the start posture
SEAM_WINDOW_S = 0.5  # posture at an end: median over this much time
CROSSFADE_S = 0.4
MIN_REP_PERIOD_S = 1.0  # faster than one repetition a second is not a rehabilitation exercise any more
MAX_REP_PERIOD_S = 30.0
MIN_HOLD_S = 2.0  # a "hold" shorter than this is not a hold


@dataclass(frozen=True)
class Truth:
    """What a derived case must give: the repetition count and tolerance, the holds and their tolerance."""

    reps: int | None
    reps_tolerance: int | None
    holds: tuple[tuple[float, float], ...] = ()
    hold_tolerance_s: float = 1.0


@dataclass(frozen=True)
class Derived:
    name: str  # "mirrored", "speed x1.5", "looped x3", "dropout 10%"
    kind: str  # "mirrored", "speed", "looped", "dropout"
    stream: PoseStream | None  # None: skipped (see ``note``)
    truth: Truth
    note: str = ""


# --- transforms ---------------------------------------------------------------------------------------------
def mirror(stream: PoseStream) -> PoseStream:
    """Every pose as :meth:`formcheck.pose.Pose.mirrored` gives it (x flipped, left and right swapped)."""
    lms = stream.landmarks[:, list(MIRROR)].copy()
    lms[:, :, 0] = 1.0 - lms[:, :, 0]
    world = stream.world[:, list(MIRROR)].copy()
    world[:, :, 0] = -world[:, :, 0]
    return replace(stream, landmarks=lms, world=world)


def change_speed(stream: PoseStream, factor: float) -> PoseStream:
    """The movement ``factor`` times faster, seen by a camera at the clip's frame rate: output frame k shows the
    source at time ``k * factor / fps``, interpolated between the two nearest frames (the nearer one when either
    has nobody)."""
    if factor <= 0:
        raise ValueError("speed factor must be positive")
    t = stream.timestamps
    fps = stream.fps
    n_out = max(1, int(np.floor((t[-1] - t[0]) / factor * fps)) + 1)
    t_out = t[0] / factor + np.arange(n_out) / fps
    pos = np.interp(t_out * factor, t, np.arange(len(t), dtype=np.float64))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(t) - 1)
    w = (pos - lo)[:, None, None]
    nearest = np.where(w[:, 0, 0] < 0.5, lo, hi)

    def blend(a: np.ndarray) -> np.ndarray:
        out = (1 - w) * a[lo] + w * a[hi]
        bad = np.isnan(out).any(axis=(1, 2))
        out[bad] = a[nearest[bad]]
        return out.astype(a.dtype)

    # a blend needs both frames seen, else the nearer frame is taken as is: "nobody" stays "nobody"
    return replace(stream, landmarks=blend(stream.landmarks), world=blend(stream.world),
                   timestamps=t_out, people=stream.people[nearest].copy())


def drop_frames(stream: PoseStream, fraction: float = DROPOUT_FRACTION, seed: int = 0,
                burst_s: tuple[float, float] = DROPOUT_BURST_S) -> PoseStream:
    """``fraction`` of the frames replaced by "nobody", in non-overlapping bursts of ``burst_s`` seconds (at
    least one frame each) at random places (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    n = len(stream)
    want = int(round(fraction * n))
    dropped = np.zeros(n, bool)
    fps = stream.fps
    for _ in range(100 * max(want, 1)):
        if dropped.sum() >= want:
            break
        length = max(1, int(round(rng.uniform(*burst_s) * fps)))
        length = min(length, want - int(dropped.sum()))
        start = int(rng.integers(0, max(1, n - length + 1)))
        # a gap of at least one seen frame on each side keeps bursts short
        if dropped[max(0, start - 1):start + length + 1].any():
            continue
        dropped[start:start + length] = True
    lms, world = stream.landmarks.copy(), stream.world.copy()
    lms[dropped] = np.nan
    world[dropped] = np.nan
    people = np.where(dropped, 0, stream.people).astype(stream.people.dtype)
    return replace(stream, landmarks=lms, world=world, people=people)


def _present_span(stream: PoseStream) -> tuple[int, int] | None:
    idx = np.flatnonzero(stream.people > 0)
    return (int(idx[0]), int(idx[-1]) + 1) if len(idx) else None


def _torso_scaled(xy: np.ndarray) -> np.ndarray:
    """(T, 33, 2) image points relative to the hip centre, in torso lengths (per frame)."""
    hips = (xy[:, 23] + xy[:, 24]) / 2
    shoulders = (xy[:, 11] + xy[:, 12]) / 2
    torso = np.linalg.norm(shoulders - hips, axis=1)
    return (xy - hips[:, None]) / np.maximum(torso, 1e-6)[:, None, None]


def _end_postures(stream: PoseStream, window_s: float = SEAM_WINDOW_S) -> tuple[np.ndarray, np.ndarray] | None:
    span = _present_span(stream)
    if span is None:
        return None
    a, b = span
    k = max(1, int(round(window_s * stream.fps)))
    w, h = stream.image_size
    xy = stream.landmarks[a:b, :, :2] * np.array([w, h], np.float32)
    rel = _torso_scaled(xy)
    return np.nanmedian(rel[:k], axis=0), np.nanmedian(rel[-k:], axis=0)


def seam_gap(stream: PoseStream) -> float:
    """How far the end posture is from the start posture: median over the main body joints (shoulders, elbows,
    wrists, hips, knees, ankles) of the distance, in torso lengths, hip-relative. ``inf`` with nobody seen."""
    ends = _end_postures(stream)
    if ends is None:
        return float("inf")
    joints = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    d = np.linalg.norm(ends[0][joints] - ends[1][joints], axis=1)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("inf")


def loop(stream: PoseStream, times: int = LOOP_TIMES, crossfade_s: float = CROSSFADE_S) -> PoseStream:
    """The clip's seen part repeated ``times`` times, each seam a linear cross-fade of ``crossfade_s`` from the
    last seen pose to the first one (a person settling back into the starting posture)."""
    span = _present_span(stream)
    if span is None:
        raise ValueError("nobody is seen in the clip")
    a, b = span
    part = {k: getattr(stream, k)[a:b] for k in ("landmarks", "world", "people")}
    dt = 1.0 / stream.fps
    n_fade = max(1, int(round(crossfade_s / dt)))
    fade_w = (np.arange(1, n_fade + 1) / (n_fade + 1))[:, None, None]
    chunks: dict[str, list[np.ndarray]] = {"landmarks": [], "world": [], "people": []}
    for i in range(times):
        if i:
            for k in ("landmarks", "world"):
                last, first = part[k][-1], part[k][0]
                chunks[k].append(((1 - fade_w) * last + fade_w * first).astype(part[k].dtype))
            chunks["people"].append(np.ones(n_fade, part["people"].dtype))
        for k in chunks:
            chunks[k].append(part[k])
    out = {k: np.concatenate(v) for k, v in chunks.items()}
    timestamps = stream.timestamps[a] + np.arange(len(out["people"])) * dt
    return replace(stream, timestamps=timestamps, **out)


# --- plausibility and ground truth ------------------------------------------------------------------------
def rep_period_s(stream: PoseStream, reps: int) -> float:
    """Average time per repetition: the time the person is seen, divided by the count."""
    span = _present_span(stream)
    if span is None or reps <= 0:
        return float("nan")
    a, b = span
    return float(stream.timestamps[b - 1] - stream.timestamps[a]) / reps


def plausible_speed(truth: Truth, stream: PoseStream, factor: float) -> str:
    """Why ``factor`` would not be a plausible exercise ("" when it is): a repetition period outside
    ``MIN_REP_PERIOD_S``..``MAX_REP_PERIOD_S`` or a hold shorter than ``MIN_HOLD_S``."""
    if truth.reps:
        period = rep_period_s(stream, truth.reps) / factor
        if period < MIN_REP_PERIOD_S:
            return f"{period:.1f} s per repetition is faster than a controlled exercise"
        if period > MAX_REP_PERIOD_S:
            return f"{period:.0f} s per repetition is slower than an exercise"
    for start, end in truth.holds:
        if (end - start) / factor < MIN_HOLD_S:
            return f"a {end - start:.1f} s hold would last {(end - start) / factor:.1f} s: not a hold any more"
    return ""


def speed_truth(truth: Truth, factor: float) -> Truth:
    """Counts unchanged; hold times (source time t is shown at t / factor) and tolerance divided by ``factor``."""
    holds = tuple((s / factor, e / factor) for s, e in truth.holds)
    return replace(truth, holds=holds, hold_tolerance_s=truth.hold_tolerance_s / factor)


def loop_truth(truth: Truth, stream: PoseStream, looped: PoseStream, times: int = LOOP_TIMES) -> Truth:
    """Count times ``times`` (tolerance too: each copy may be off the same way); holds repeated at each copy's
    offset."""
    span = _present_span(stream)
    a, b = span
    n_seen = b - a
    n_fade = (len(looped) - times * n_seen) // max(times - 1, 1)
    copy_s = (n_seen + n_fade) / stream.fps  # each copy and the seam after it
    shift = looped.timestamps[0] - stream.timestamps[a]
    holds = tuple((s + shift + i * copy_s, e + shift + i * copy_s) for i in range(times) for s, e in truth.holds)
    tol = None if truth.reps_tolerance is None else truth.reps_tolerance * times
    return replace(truth, reps=None if truth.reps is None else truth.reps * times, reps_tolerance=tol, holds=holds)


def derive_all(stream: PoseStream, truth: Truth, seed: int | str = 0,
               speeds: tuple[float, ...] = SPEEDS) -> list[Derived]:
    """Every derived case of one clip (skipped ones carry ``stream=None`` and the reason in ``note``)."""
    if isinstance(seed, str):
        seed = zlib.crc32(seed.encode())
    out = [Derived("mirrored", "mirrored", mirror(stream), truth)]
    for f in speeds:
        why = plausible_speed(truth, stream, f)
        name = f"speed x{f:g}"
        out.append(Derived(name, "speed", None if why else change_speed(stream, f), speed_truth(truth, f), why))
    if truth.reps == 1:
        gap = seam_gap(stream)
        name = f"looped x{LOOP_TIMES}"
        if gap <= SEAM_MAX_GAP:
            looped = loop(stream)
            out.append(Derived(name, "looped", looped, loop_truth(truth, stream, looped)))
        else:
            out.append(Derived(name, "looped", None, truth,
                               f"ends {gap:.2f} torso lengths from its starting posture: no honest seam"))
    out.append(Derived(f"dropout {DROPOUT_FRACTION:.0%}", "dropout", drop_frames(stream, seed=seed), truth))
    return out


KINDS = ("mirrored", "speed", "looped", "dropout")
