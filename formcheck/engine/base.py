"""The analyzer interface between poses and events, and the analyzer that reports poses only."""

from __future__ import annotations

from typing import Protocol

from formcheck.core.events import Event
from formcheck.core.result import Recognition, Series
from formcheck.pose.types import Pose


class Analyzer(Protocol):
    """Turns a stream of poses into events. The same object serves live use, files, the server and tests.

    Every analyzer answers all five: there are no optional parts to probe for."""

    exercise: str

    def update(self, pose: Pose) -> list[Event]:
        """Consume one pose (present or not) and return the events it caused."""

    def finish(self, t: float) -> list[Event]:
        """The stream ended at ``t``: close open holds or repetitions and return their events."""

    def series(self) -> Series:
        """Signal time series for plots: ``{"t": [...], "<signal>": [...], "target_band": {...}}``."""

    def summary(self) -> dict:
        """Totals of what was analysed so far (``reps``, ``holds``, ``avg_score``, ...)."""

    def recognition(self) -> Recognition | None:
        """Which exercise this analyzer counts and how sure it is (None before it has decided)."""


class PoseOnlyAnalyzer:
    """Reports poses only (no exercise logic): exercise ``none``."""

    def __init__(self, exercise: str = "none"):
        self.exercise = exercise

    def update(self, pose: Pose) -> list[Event]:
        return []

    def finish(self, t: float) -> list[Event]:
        return []

    def series(self) -> Series:
        return {"t": [], "target_band": {}}

    def summary(self) -> dict:
        return {"reps": 0, "holds": 0}

    def recognition(self) -> Recognition | None:
        return Recognition(self.exercise, 1.0, "given")
