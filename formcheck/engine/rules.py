"""Form rules evaluated on signals (how often a warning is shown is coaching's business: formcheck.coaching.cues)."""

from __future__ import annotations

import math

from formcheck.engine.spec import RuleSpec

SEVERITY_PENALTY = {"info": 5.0, "warning": 20.0, "error": 40.0}


def noise_scale(kind: str) -> float:
    """Typical frame-to-frame tracking noise of a signal of this kind (degrees, or torso lengths): how far past
    its bound a value must be for a warning to be fully confident."""
    return 3.0 if kind in ("angle", "incline") else 0.03


def in_range(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


class RuleState:
    """Tracks one rule over a repetition or hold.

    ``keep`` rules fault once the signal stays out of range, by at least ``margin``, for ``min_duration_s``;
    ``reach`` rules keep the best value seen and fault at the end when it stayed short by at least ``margin``."""

    def __init__(self, spec: RuleSpec, scale: float = 3.0):
        self.spec = spec
        self.margin = spec.margin or 0.0
        self.scale = scale
        self.reset()

    def reset(self) -> None:
        self._bad_since: float | None = None
        self._worst_excess = 0.0
        self._least_seen = 1.0
        self.broken = False  # out of range right now, for at least min_duration_s
        self.confidence = 0.0  # of the last fault: how clearly past the threshold, how well seen
        self.new_record()

    def new_record(self) -> None:
        """Forget the faults and best value of the last repetition / hold (keeps whether it is broken now)."""
        self.faulted = False
        self.best = math.nan
        self.worst = math.nan

    def pause(self) -> None:
        """Not checked on this frame (other phase or view): a violation must start again to count."""
        self._bad_since = None
        self._worst_excess, self._least_seen = 0.0, 1.0
        self.broken = False

    def excess(self, value: float) -> float:
        """How far ``value`` is outside [min, max] (0 inside)."""
        lo, hi = self.spec.min, self.spec.max
        if lo is not None and value < lo:
            return lo - value
        if hi is not None and value > hi:
            return value - hi
        return 0.0

    def _confidence(self) -> float:
        """0.5 at the bound (plus margin) .. 1 at one noise scale past it, capped by how well it was seen."""
        clear = min(1.0, 0.5 + 0.5 * (self._worst_excess - self.margin) / max(self.scale, 1e-9))
        return round(max(0.5, min(clear, self._least_seen)), 2)

    def better(self, a: float, b: float) -> bool:
        """``a`` is closer to the allowed range than ``b``."""
        if math.isnan(b):
            return True
        lo, hi = self.spec.min, self.spec.max
        if lo is not None and hi is None:
            return a > b
        if hi is not None and lo is None:
            return a < b
        mid = (lo + hi) / 2
        return abs(a - mid) < abs(b - mid)

    def update(self, t: float, value: float, seen: float = 1.0) -> bool:
        """Feed a value during the rule's phase; True when a ``keep`` rule has just become a fault.

        A fault needs the value past its bound by more than the spec's ``margin``, with the signal's joints seen
        (``seen``: their lowest visibility, at least 0.5), on every frame for ``min_duration_s``: a value at
        the threshold's edge, or a guessed hidden joint, never warns."""
        if not math.isfinite(value):
            return False
        if self.better(value, self.best):
            self.best = value
        if math.isnan(self.worst) or self.better(self.worst, value):
            self.worst = value
        if self.spec.check != "keep":
            return False
        excess = self.excess(value)
        if excess <= self.margin or seen < 0.5:  # in range, or not surely out of it
            self.pause()
            return False
        if self._bad_since is None:
            self._bad_since = t
        self._worst_excess = max(self._worst_excess, excess)
        self._least_seen = min(self._least_seen, seen)
        self.broken = t - self._bad_since >= self.spec.min_duration_s
        if self.broken and not self.faulted:
            self.faulted = True
            self.confidence = self._confidence()
            return True
        return False

    def close(self) -> bool:
        """End of the repetition / hold: True when a ``reach`` rule was never satisfied."""
        spec = self.spec
        if spec.check == "reach" and math.isfinite(self.best) and self.excess(self.best) > self.margin:
            self.faulted = True
            self._worst_excess = self.excess(self.best)
            self.confidence = self._confidence()
            return True
        return False
