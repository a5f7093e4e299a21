"""Form rules evaluated on signals (how often a warning is shown is coaching's business: formcheck.coaching.cues)."""

from __future__ import annotations

import math

from formcheck.engine.spec import RuleSpec

SEVERITY_PENALTY = {"info": 5.0, "warning": 20.0, "error": 40.0}


def in_range(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


class RuleState:
    """Tracks one rule over a repetition or hold.

    ``keep`` rules fault once the signal stays out of range for ``min_duration_s``; ``reach`` rules keep the
    best value seen and fault at the end when it never got into range."""

    def __init__(self, spec: RuleSpec):
        self.spec = spec
        self.reset()

    def reset(self) -> None:
        self._bad_since: float | None = None
        self.broken = False  # out of range right now, for at least min_duration_s
        self.new_record()

    def new_record(self) -> None:
        """Forget the faults and best value of the last repetition / hold (keeps whether it is broken now)."""
        self.faulted = False
        self.best = math.nan
        self.worst = math.nan

    def pause(self) -> None:
        """Not checked on this frame (other phase or view): a violation must start again to count."""
        self._bad_since = None
        self.broken = False

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

    def update(self, t: float, value: float) -> bool:
        """Feed a value during the rule's phase; True when a ``keep`` rule has just become a fault."""
        if not math.isfinite(value):
            return False
        if self.better(value, self.best):
            self.best = value
        if math.isnan(self.worst) or self.better(self.worst, value):
            self.worst = value
        if self.spec.check != "keep":
            return False
        if in_range(value, self.spec.min, self.spec.max):
            self._bad_since = None
            self.broken = False
            return False
        if self._bad_since is None:
            self._bad_since = t
        self.broken = t - self._bad_since >= self.spec.min_duration_s
        if self.broken and not self.faulted:
            self.faulted = True
            return True
        return False

    def close(self) -> bool:
        """End of the repetition / hold: True when a ``reach`` rule was never satisfied."""
        spec = self.spec
        if spec.check == "reach" and math.isfinite(self.best) and not in_range(self.best, spec.min, spec.max):
            self.faulted = True
            return True
        return False
