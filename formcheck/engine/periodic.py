"""Class-agnostic repetition counter: counts repetitions of any movement from the periodicity of the pose.

No exercise spec is needed. The body's joint positions (relative to the hips, in torso lengths) form a
multichannel signal; its autocorrelation gives the repetition period, a band-pass around that period
keeps the movement and drops drifts and jitter, the dominant component (PCA) of what is left is the 1-D
repetition signal, and each cycle of it whose swing is large compared with the signal's own typical
swing is a repetition. Frames without a person (NaN) are bridged; rest at the start or the end does not
count because it has no swing.

:func:`count_repetitions` works on a whole recording; :class:`PeriodicAnalyzer` is the live form with the
usual analyzer contract (``update(pose) -> events``, ``finish(t)``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy import signal as sps
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

from formcheck.core.events import Event, RepCompleted, StateChanged
from formcheck.core.result import Recognition, Series, summarise
from formcheck.pose.types import Pose

# Joints that carry exercise motion: nose, shoulders, elbows, wrists, hips, knees, ankles, feet.
BODY_JOINTS = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 31, 32)
_HIPS, _SHOULDERS = (23, 24), (11, 12)
# knees, hips, elbows, shoulders (vertex in the middle)
_ANGLES = ((23, 25, 27), (24, 26, 28), (11, 23, 25), (12, 24, 26), (11, 13, 15), (12, 14, 16), (13, 11, 23),
           (14, 12, 24))


@dataclass(frozen=True)
class PeriodicSettings:
    """Tuning of the counter, in units of time or of the signal's own amplitude (not per exercise)."""

    min_period_s: float = 0.4  # fastest repetition considered (jumping jacks at 2.5 Hz)
    max_period_s: float = 12.0  # slowest repetition considered
    min_swing: float = 0.08  # a repetition moves the body by at least this many torso lengths
    relative_prominence: float = 0.5  # a cycle counts if its swing >= this x the typical swing
    min_distance_periods: float = 0.55  # two repetitions are at least this many periods apart
    smoothing_s: float = 0.05  # Gaussian smoothing of the raw trajectories
    angle_weight: float = 0.3  # joint angles (radians) join the joint positions with this weight


@dataclass
class PeriodicResult:
    """What :func:`count_repetitions` found."""

    count: int
    period_s: float | None  # estimated repetition period, None when no periodicity was found
    reps: list[tuple[float, float]] = field(default_factory=list)  # (start_s, end_s) of each repetition
    peaks_s: list[float] = field(default_factory=list)  # time of each repetition's extreme
    periodicity: float = 0.0  # autocorrelation at the period (0..1): how repetitive the movement is
    swing: float = 0.0  # typical peak-to-trough swing, torso lengths
    signal: np.ndarray | None = None  # (T,) the repetition signal (band-passed main component), NaN outside


def pose_features(landmarks: np.ndarray, angle_weight: float = 0.3, aspect: float = 1.0) -> np.ndarray:
    """(T, 33, >=2) landmarks -> (T, 2*J + 8) body joint x, y relative to the hips, in torso lengths, and the
    main joint angles (knees, hips, elbows, shoulders) in radians times ``angle_weight``.

    The torso length is the median over the recording (so bending the trunk still shows as motion).
    ``aspect`` is the image's width / height (normalised x is stretched to square pixels).
    Rows without a person stay NaN.
    """
    xy = np.asarray(landmarks, np.float64)[:, :, :2] * np.array([aspect, 1.0])
    hips = xy[:, _HIPS].mean(axis=1)
    shoulders = xy[:, _SHOULDERS].mean(axis=1)
    torso = np.linalg.norm(shoulders - hips, axis=1)
    scale = np.nanmedian(torso) if np.isfinite(torso).any() else np.nan
    if not np.isfinite(scale) or scale <= 1e-6:
        scale = 1.0
    rel = (xy[:, BODY_JOINTS] - hips[:, None, :]) / scale
    if angle_weight <= 0:
        return rel.reshape(len(xy), -1)
    angles = []
    for a, b, c in _ANGLES:
        v1, v2 = xy[:, a] - xy[:, b], xy[:, c] - xy[:, b]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (v1 * v2).sum(1) / (np.linalg.norm(v1, axis=1) * np.linalg.norm(v2, axis=1))
        angles.append(np.arccos(np.clip(cos, -1.0, 1.0)) * angle_weight)
    return np.concatenate([rel.reshape(len(xy), -1), np.stack(angles, axis=1)], axis=1)


def _fill_gaps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linearly bridge NaN rows (ends held at the nearest value). Returns the filled array and the valid mask."""
    valid = np.isfinite(x).all(axis=1)
    if valid.all() or not valid.any():
        return np.nan_to_num(x), valid
    idx = np.arange(len(x))
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j] = np.interp(idx, idx[valid], x[valid, j])
    return out, valid


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of a (T, F) signal summed over channels (lags 0..T-1)."""
    x = x - x.mean(axis=0)
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(x, size, axis=0)
    acf = np.fft.irfft((spec * spec.conj()).real.sum(axis=1), size)[:n]
    acf = acf / np.maximum(n - np.arange(n), 1)  # unbiased
    return acf / acf[0] if acf[0] > 0 else acf


def _refine(acf: np.ndarray, i: int) -> float:
    """Sub-sample position of the autocorrelation peak at ``i`` (parabola through three points)."""
    if 0 < i < len(acf) - 1:
        a, b, c = acf[i - 1], acf[i], acf[i + 1]
        den = a - 2 * b + c
        if den < 0:
            return i + 0.5 * (a - c) / den
    return float(i)


def estimate_period(
    x: np.ndarray, fps: float, settings: PeriodicSettings = PeriodicSettings()
) -> tuple[float | None, float]:
    """Repetition period (seconds) of a (T, F) signal, and how periodic it is (autocorrelation there, 0..1).

    A bank of derivative-of-Gaussian filters (velocity at several time scales) splits the movement into
    octave-wide bands; the band whose autocorrelation has the highest peak gives the period. Velocity
    rather than position, so slow drifts (getting into position, walking) do not hide quick repetitions."""
    n = len(x)
    lo = max(2, int(settings.min_period_s * fps))
    hi = min(int(settings.max_period_s * fps), int(n / 1.5))
    if hi <= lo + 1:
        return None, 0.0
    candidates: list[tuple[float, int]] = []
    period = settings.min_period_s
    while period <= settings.max_period_s * 1.01:
        step = max(1, int(period * fps / 16))  # long periods are analysed on a decimated signal
        xs = uniform_filter1d(x, step, axis=0)[::step] if step > 1 else x
        sigma = period * fps / (2 * np.pi) / step  # the filter's peak response is at this period
        acf = _autocorrelation(gaussian_filter1d(xs, max(sigma, 0.5), axis=0, order=1))
        band_lo = max(lo, int(0.5 * period * fps)) / step
        band_hi = min(hi, int(2.0 * period * fps)) / step
        if band_hi > band_lo + 1:
            peaks, _ = sps.find_peaks(acf[: int(band_hi) + 1])
            peaks = peaks[peaks >= band_lo]
            if len(peaks) and acf[peaks].max() > 0:
                top = acf[peaks].max()
                first = peaks[acf[peaks] >= 0.8 * top][0]  # its multiples would score as high
                candidates.append((float(acf[first]), _refine(acf, int(first)) * step))
        period *= 2 ** 0.5
    if not candidates:
        return None, 0.0
    top = max(c[0] for c in candidates)
    # the shortest period that is nearly as periodic as the best: a repetition, not a pair of them
    strength, lag = min((c for c in candidates if c[0] >= 0.8 * top), key=lambda c: c[1])
    return lag / fps, strength


def _bandpass(x: np.ndarray, fps: float, period_s: float) -> np.ndarray:
    f0 = 1.0 / period_s
    nyq = fps / 2
    low = 0.4 * f0 / nyq
    high = min(2.5 * f0 / nyq, 0.95)
    if low >= high:
        return x - x.mean(axis=0)
    sos = sps.butter(2, [low, high], btype="band", output="sos")
    padlen = min(len(x) - 1, int(3 * period_s * fps))
    return sps.sosfiltfilt(sos, x, axis=0, padlen=padlen)


def _dominant_component(x: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project ``x`` and the unfiltered ``raw`` on the first principal axis of ``x``."""
    x = x - x.mean(axis=0)
    # a small (F, F) problem, cheaper than an SVD; einsum avoids BLAS threads (steady latency on a busy CPU)
    _, vectors = np.linalg.eigh(np.einsum("ti,tj->ij", x, x))
    axis = vectors[:, -1]
    return x @ axis, (raw - raw.mean(axis=0)) @ axis


def count_signal(
    y: np.ndarray, fps: float, period_s: float, settings: PeriodicSettings = PeriodicSettings(), min_swing: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Repetition extremes of a 1-D band-passed signal (oriented so that repetitions are peaks):
    indices of the counted peaks and their prominences."""
    distance = max(1, int(settings.min_distance_periods * period_s * fps))
    peaks, props = sps.find_peaks(y, distance=distance, prominence=max(min_swing, 1e-9))
    prom = props["prominences"]
    if len(peaks) == 0:
        return peaks, prom
    typical = np.median(np.sort(prom)[len(prom) // 2 :])
    keep = prom >= max(settings.relative_prominence * typical, min_swing)
    return peaks[keep], prom[keep]


def _orient(y: np.ndarray, raw: np.ndarray, fps: float, period_s: float) -> np.ndarray:
    """Flip ``y`` so that repetitions are peaks: the resting level, seen at the start and the end of the
    unfiltered signal ``raw``, should be at the low side."""
    k = max(1, int(0.5 * period_s * fps))
    rest = np.median(np.concatenate([raw[:k], raw[-k:]]))
    return y if rest <= np.median(raw) else -y


def count_repetitions(
    landmarks: np.ndarray, timestamps: np.ndarray | None = None, fps: float | None = None,
    settings: PeriodicSettings = PeriodicSettings(), aspect: float = 1.0,
) -> PeriodicResult:
    """Count repetitions in a whole recording of (T, 33, >=2) landmarks (NaN rows where nobody was seen).
    ``aspect`` is the image's width / height when the landmarks are normalised image coordinates."""
    landmarks = np.asarray(landmarks)
    n = len(landmarks)
    if timestamps is None:
        timestamps = np.arange(n) / (fps or 30.0)
    timestamps = np.asarray(timestamps, np.float64)
    if fps is None:
        fps = 1.0 / float(np.median(np.diff(timestamps))) if n > 1 else 30.0
    feats = pose_features(landmarks, settings.angle_weight, aspect)
    x, valid = _fill_gaps(feats)
    if valid.sum() < max(4, settings.min_period_s * fps):
        return PeriodicResult(0, None)
    first, last = np.flatnonzero(valid)[[0, -1]]
    x = x[first : last + 1]
    if settings.smoothing_s > 0:
        x = gaussian_filter1d(x, settings.smoothing_s * fps, axis=0)
    period, strength = estimate_period(x, fps, settings)
    if period is None:
        return PeriodicResult(0, None)
    y, raw = _dominant_component(_bandpass(x, fps, period), x)
    y = _orient(y, raw, fps, period)
    peaks, prom = count_signal(y, fps, period, settings, settings.min_swing)
    t = timestamps[first : last + 1]
    half = period / 2
    reps = [(max(t[0], t[p] - half), min(t[-1], t[p] + half)) for p in peaks]
    swing = float(np.median(prom)) if len(prom) else 0.0
    full = np.full(n, np.nan)
    full[first : last + 1] = y
    return PeriodicResult(len(peaks), period, reps, [float(t[p]) for p in peaks], strength, swing, full)


class PeriodicAnalyzer:
    """Live class-agnostic counter with the analyzer contract: re-estimates the count on the recent past
    every ``every_s`` seconds and reports each repetition once it is confirmed (one period has passed).
    A re-estimate over 45 s costs about 20 ms, so about 0.7 ms per frame at 30 fps."""

    exercise = "periodic"

    def __init__(self, window_s: float = 45.0, every_s: float = 1.0, settings: PeriodicSettings = PeriodicSettings(),
                 min_periodicity: float = 0.3):
        self.window_s, self.every_s, self.settings = window_s, every_s, settings
        self.min_periodicity = min_periodicity
        self._lms: deque[np.ndarray] = deque()
        self._ts: deque[float] = deque()
        self._next_check = 0.0
        self._last_peak_t = -np.inf
        self._count = 0
        self._reps: list[RepCompleted] = []
        self._state = ""
        self._aspect = 1.0

    def _set_state(self, t: float, state: str, message: str) -> list[Event]:
        if state == self._state:
            return []
        self._state = state
        return [StateChanged(t, state, message)]

    def update(self, pose: Pose) -> list[Event]:
        t = pose.timestamp
        self._lms.append(pose.landmarks[:, :2] if pose.present else np.full((33, 2), np.nan, np.float32))
        self._aspect = pose.image_size[0] / max(pose.image_size[1], 1)
        self._ts.append(t)
        while self._ts and self._ts[0] < t - self.window_s:
            self._ts.popleft()
            self._lms.popleft()
        events: list[Event] = []
        if not pose.present:
            events += self._set_state(t, "out_of_view", "step into view")
        elif self._state != "active":
            events += self._set_state(t, "active", "")
        if t >= self._next_check:
            self._next_check = t + self.every_s
            events += self._emit(t, final=False)
        return events

    def finish(self, t: float) -> list[Event]:
        return self._emit(t, final=True)

    def series(self) -> Series:
        """No named signals: the periodic counter follows the whole body's main motion."""
        return {"t": [], "target_band": {}}

    def summary(self) -> dict:
        return {**summarise(self._reps, []), "reps": self._count}

    def recognition(self) -> Recognition | None:
        return Recognition(self.exercise, 1.0, "given")

    def _emit(self, t: float, final: bool) -> list[Event]:
        if len(self._ts) < 4:
            return []
        result = count_repetitions(np.stack(self._lms), np.array(self._ts), settings=self.settings,
                                   aspect=self._aspect)
        if result.period_s is None or (not final and result.periodicity < self.min_periodicity):
            return []  # live, repetitions are reported once the movement is clearly repetitive
        events: list[Event] = []
        for (start, end), peak in zip(result.reps, result.peaks_s, strict=True):
            confirmed = final or peak <= t - result.period_s
            # the same repetition seen again (estimates move a little as data comes in) is not new
            if peak > self._last_peak_t + 0.85 * result.period_s and confirmed:
                self._count += 1
                self._last_peak_t = peak
                events.append(RepCompleted(end, self._count, start, end, result.swing, end - start, 100.0))
        self._reps += [e for e in events if isinstance(e, RepCompleted)]
        return events
