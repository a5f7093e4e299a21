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


VIEW_SETTLE_S = 0.5  # a change of camera view is taken once it has lasted this long (no flicker at an oblique angle)


def measure(spec: SignalSpec, geo: BodyGeometry, side: str | None, space: str | None = None) -> float:
    """The raw value of one signal on one frame (NaN when it cannot be measured); ``space`` resolves
    ``space: auto`` (default: image)."""
    side = spec.side or side
    space = space or (spec.space if spec.space != "auto" else "image")
    p = spec.points
    if spec.kind == "angle":
        return geo.angle(p[0], p[1], p[2], side, space)
    if spec.kind == "incline":
        return geo.incline(p[0], p[1], side, space)
    if spec.kind == "height":
        return geo.height(p[0], p[1], side, space)
    return geo.distance(p[0], p[1], side, space)


class ViewTracker:
    """The camera's view of the body, changed only once a new view has lasted ``VIEW_SETTLE_S``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.view = "unknown"
        self._candidate, self._since = "unknown", 0.0

    def update(self, geo: BodyGeometry, t: float) -> str:
        raw = geo.view if geo.present else "unknown"
        if raw == "unknown" or raw == self.view:
            self._candidate = self.view
            return self.view
        if self.view == "unknown":
            self.view = raw
        elif raw != self._candidate:
            self._candidate, self._since = raw, t
        elif t - self._since >= VIEW_SETTLE_S:
            self.view = raw
        return self.view


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
    the signal could not be trusted on this frame. Signals with ``space: auto`` are measured in the image while
    the body is seen from ``image_view`` (the spec's camera view) and from world landmarks in other views."""

    def __init__(self, signals: dict[str, SignalSpec], tau_s: float = 0.08, image_view: str = "any"):
        self.specs = signals
        self.image_view = image_view
        self.views = ViewTracker()
        self.space = {n: "image" for n in signals}  # the space each signal is measured in on this frame
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
        view = self.views.update(geo, t)
        image = self.image_view == "any" or view in ("unknown", self.image_view)
        for name, spec in self.specs.items():
            space = spec.space if spec.space != "auto" else ("image" if image else "world")
            if space != self.space[name]:  # a switch of space is a new measurement, not a jump of the old one
                self.space[name] = space
                for side in SIDES if self.sided[name] else (None,):
                    self._smooth[(name, side)].reset()
            for side in SIDES if self.sided[name] else (None,):
                ok = geo.present and trusted(spec, geo, side, self._landmarks[(name, side)])
                raw = measure(spec, geo, side, space) if ok else math.nan
                self.trust[name][side] = ok and math.isfinite(raw)
                self.values[name][side] = self._smooth[(name, side)](t, raw)

    def value(self, name: str, side: str | None) -> float:
        vals = self.values[name]
        return vals.get(side if self.sided[name] else None, math.nan)

    def reset(self) -> None:
        self.views.reset()
        for s in self._smooth.values():
            s.reset()
