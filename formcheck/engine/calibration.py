"""Personal calibration of a repetition: the person's own rest and end positions, learned from their first
movements and kept within the spec's bounds (``rep.calibrate``).

A spec's ``rest`` and ``target`` are set for a typical person. Someone whose correct movement is smaller (a
stiff back in a cat-cow, a shallow lunge) would never be counted. With ``calibrate`` the counter also watches
movements that pass the spec's most lenient bounds; after ``reps`` of them it takes the person's typical range
(median rest and median end position) and sets their own thresholds a fifth of that range inside it, never
stricter than the spec's thresholds and never more lenient than its bounds. Movements that waited for the
calibration are then judged against the personal threshold, in order. Values are in the counter's internal
orientation (the target is "up")."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

INSIDE_FRACTION = 0.2  # personal thresholds sit this fraction of the person's range inside their extremes


@dataclass
class PersonalRange:
    """What the person's first movements taught: the thresholds in use and the range they reached."""

    strict_rest: float
    strict_target: float
    lenient_rest: float
    lenient_target: float
    needed: int = 2
    baselines: list[float] = field(default_factory=list)
    extremes: list[float] = field(default_factory=list)
    rest: float | None = None  # personal thresholds, once calibrated
    target: float | None = None

    @property
    def ready(self) -> bool:
        return self.target is not None

    def add(self, baseline: float, extreme: float) -> bool:
        """One movement that passed the lenient bounds; True when this one completes the calibration."""
        self.baselines.append(baseline)
        self.extremes.append(extreme)
        if not self.ready and len(self.extremes) >= self.needed:
            self.calibrate()
            return True
        return False

    def calibrate(self) -> None:
        """Set the personal thresholds from the movements seen so far (at least one)."""
        first_b, first_e = self.baselines[: self.needed], self.extremes[: self.needed]
        base, end = statistics.median(first_b), statistics.median(first_e)
        span = max(end - base, 0.0)
        self.target = min(max(end - INSIDE_FRACTION * span, self.lenient_target), self.strict_target)
        self.rest = min(max(base + INSIDE_FRACTION * span, self.strict_rest), self.lenient_rest)
        if self.target <= self.rest:  # the person's range is too small for thresholds inside it
            self.rest = self.strict_rest

    def report(self, sign: float) -> dict:
        """For the session report, in the signal's own orientation: the thresholds used and the range reached."""
        def out(v: float | None) -> float | None:
            return None if v is None else round(v * sign, 1)

        reached = sorted(e * sign for e in self.extremes)
        starts = sorted(b * sign for b in self.baselines)
        return {
            "calibrated": self.ready,
            "movements": len(self.extremes),
            "rest": out(self.rest),
            "target": out(self.target),
            "spec_rest": out(self.strict_rest),
            "spec_target": out(self.strict_target),
            "end_reached": [round(reached[0], 1), round(reached[-1], 1)] if reached else None,
            "rest_reached": [round(starts[0], 1), round(starts[-1], 1)] if starts else None,
        }
