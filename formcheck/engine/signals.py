"""Signals: the spec's named measurements, evaluated per frame for each body side, smoothed, with trust flags."""

from __future__ import annotations

import math

from formcheck.engine.geometry import SIDES, BodyGeometry, landmark_indices
from formcheck.engine.spec import SignalSpec

#: points whose landmarks say which side a signal belongs to (``knee``, ``other_knee``)
_SIDED_PREFIXES = ("left_", "right_", "mid_")


def is_sided(spec: SignalSpec) -> bool:
    """The signal depends on the exercise side (uses bare or ``other_`` point names and no fixed side)."""
    if spec.side is not None:
        return False
    return any(not p.startswith(_SIDED_PREFIXES) and p != "nose" for p in spec.points)


def measure(spec: SignalSpec, geo: BodyGeometry, side: str | None) -> float:
    """The raw value of one signal on one frame (NaN when it cannot be measured)."""
    side = spec.side or side
    p = spec.points
    if spec.kind == "angle":
        return geo.angle(p[0], p[1], p[2], side, spec.space)
    if spec.kind == "incline":
        return geo.incline(p[0], p[1], side, spec.space)
    if spec.kind == "height":
        return geo.height(p[0], p[1], side)
    return geo.distance(p[0], p[1], side, spec.space)


def signal_landmarks(spec: SignalSpec, side: str | None) -> list[int]:
    out: list[int] = []
    for name in spec.points:
        out += landmark_indices(name, spec.side or side)
    return out


def trusted(spec: SignalSpec, geo: BodyGeometry, side: str | None, idx: list[int] | None = None) -> bool:
    """Every landmark of the signal is in the image, and it is either seen or (for a hidden joint whose
    visibility MediaPipe under-reports) the limb geometry is plausible."""
    idx = signal_landmarks(spec, side) if idx is None else idx
    if not bool(geo.in_frame[idx].all()):
        return False
    vis = float(geo.visibility[idx].min())
    if vis >= 0.5:
        return True
    if vis < 0.1:
        return False
    s = spec.side or side
    return s in SIDES and geo.limb_plausible(s)


class Smoother:
    """Causal exponential smoothing with a time constant, reset after a gap."""

    def __init__(self, tau_s: float = 0.08, gap_s: float = 0.5):
        self.tau, self.gap = tau_s, gap_s
        self.value = math.nan
        self.t = -math.inf

    def __call__(self, t: float, x: float) -> float:
        if not math.isfinite(x):
            return self.value if t - self.t <= self.gap else math.nan
        if not math.isfinite(self.value) or t - self.t > self.gap or t <= self.t:
            self.value = x
        else:
            a = 1.0 - math.exp(-(t - self.t) / self.tau) if self.tau > 0 else 1.0
            self.value += a * (x - self.value)
        self.t = t
        return self.value

    def reset(self) -> None:
        self.value, self.t = math.nan, -math.inf


class SignalBank:
    """Evaluates every signal of a spec on each frame, for both sides when the signal is sided.

    ``values[name][side]`` holds the smoothed value (``side`` is ``None`` for unsided signals), NaN when
    the signal could not be trusted on this frame."""

    def __init__(self, signals: dict[str, SignalSpec], tau_s: float = 0.08):
        self.specs = signals
        self.sided = {n: is_sided(s) for n, s in signals.items()}
        self._smooth = {
            (n, side): Smoother(tau_s) for n in signals for side in (SIDES if self.sided[n] else (None,))
        }
        self._landmarks = {
            (n, side): signal_landmarks(s, side) for n, s in signals.items() for side in (*SIDES, None)
        }
        self.values: dict[str, dict[str | None, float]] = {n: {} for n in signals}
        self.trust: dict[str, dict[str | None, bool]] = {n: {} for n in signals}

    def update(self, geo: BodyGeometry, t: float) -> None:
        for name, spec in self.specs.items():
            for side in SIDES if self.sided[name] else (None,):
                ok = geo.present and trusted(spec, geo, side, self._landmarks[(name, side)])
                raw = measure(spec, geo, side) if ok else math.nan
                self.trust[name][side] = ok and math.isfinite(raw)
                self.values[name][side] = self._smooth[(name, side)](t, raw)

    def value(self, name: str, side: str | None) -> float:
        vals = self.values[name]
        return vals.get(side if self.sided[name] else None, math.nan)

    def reset(self) -> None:
        for s in self._smooth.values():
            s.reset()
