"""A second opinion on a repetition count: the class-agnostic periodic counter over the same poses.

The spec's state machine counts what its geometry can measure; the periodic counter counts any clearly repeated
movement of the body. At the end of a set both counts are compared, and the report says when they disagree and
which one it gives, by one rule:

- the spec's count is given whenever it counted something: it checks the exercise's own range and form, and the
  periodic counter also counts whatever else repeats (getting into position, a second exercise);
- when the spec counted nothing because it could not measure its repetition signal (on most frames with the
  person in view: the body out of view, a view the spec cannot read) although the body clearly repeated a
  movement (at least two cycles with periodicity ``CLEAR_PERIODICITY``), the periodic count is given, each
  repetition marked as counted by the periodic counter and not scored. A spec that measured the person and
  counted nothing (not in the exercise's position, not the exercise) is not overruled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.core.events import RepCompleted
from formcheck.engine.periodic import count_repetitions
from formcheck.pose.types import Pose

CLEAR_PERIODICITY = 0.5  # autocorrelation at the period: a clearly repetitive movement


@dataclass(frozen=True)
class Opinion:
    spec_count: int
    periodic_count: int
    periodicity: float
    trusted: str  # "spec" | "periodic"

    @property
    def disagrees(self) -> bool:
        return self.periodicity >= CLEAR_PERIODICITY and self.periodic_count != self.spec_count

    def to_dict(self) -> dict:
        return {"spec_count": self.spec_count, "periodic_count": self.periodic_count,
                "periodicity": round(self.periodicity, 2), "trusted": self.trusted, "disagrees": self.disagrees}

    def notice(self, name: str) -> str | None:
        """The disagreement in words for the report (None when the counts agree or the movement is not clear)."""
        if not self.disagrees:
            return None
        if self.trusted == "periodic":
            return (f"{name}: the exercise's own measurements could not follow the movement (is the whole body in "
                    f"view?); {self.periodic_count} repetitions of a repeated movement were counted instead")
        return (f"{name}: {self.spec_count} repetitions counted; a counter of any repeated movement saw "
                f"{self.periodic_count} - check the video if that looks wrong")


class SecondOpinion:
    """Keeps the poses of a set (image x, y of every landmark) and gives the periodic counter's opinion at its end."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._xy: list[np.ndarray] = []
        self._t: list[float] = []
        self._aspect = 1.0
        self.opinion: Opinion | None = None

    def add(self, pose: Pose) -> None:
        self._xy.append(pose.landmarks[:, :2] if pose.present else np.full((33, 2), np.nan, np.float32))
        self._t.append(pose.timestamp)
        self._aspect = pose.image_size[0] / max(pose.image_size[1], 1)

    def decide(self, spec_reps: list[RepCompleted], measured_share: float) -> list[RepCompleted]:
        """Compare with the spec's repetitions; returns the periodic counter's repetitions when they are given
        instead (the spec counted none and could measure its signal on under half of the frames with the person
        in view: ``measured_share``), else nothing."""
        if len(self._t) < 4:
            return []
        found = count_repetitions(np.stack(self._xy), np.asarray(self._t), aspect=self._aspect)
        use_periodic = (not spec_reps and measured_share < 0.5 and found.count >= 2
                        and found.periodicity >= CLEAR_PERIODICITY)
        self.opinion = Opinion(len(spec_reps), found.count, float(found.periodicity),
                               "periodic" if use_periodic else "spec")
        if not use_periodic:
            return []
        note = {"points": 0.0, "of": 0.0, "note": "counted by the periodic counter: the exercise's own "
                                                   "measurements could not follow the movement"}
        # not scored (score 0, no faults): nothing of the exercise's own range or form could be measured
        return [RepCompleted(float(end), i, float(start), float(end), float(found.swing), float(end - start), 0.0, (),
                             {"counted_by": note}) for i, (start, end) in enumerate(found.reps, 1)]
