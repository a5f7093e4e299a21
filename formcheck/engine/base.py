"""The analyzer interface between poses and events, and the fallback that reports poses only."""

from __future__ import annotations

from typing import Protocol

from formcheck.core.events import Event
from formcheck.pose.types import Pose


class Analyzer(Protocol):
    """Turns a stream of poses into events. The same object serves live use, files, the server and tests."""

    exercise: str

    def update(self, pose: Pose) -> list[Event]:
        """Consume one pose (present or not) and return the events it caused."""

    def finish(self, t: float) -> list[Event]:
        """The stream ended at ``t``: close open holds or repetitions and return their events."""


class PoseOnlyAnalyzer:
    """Reports poses only (no exercise logic)."""

    def __init__(self, exercise: str = "none"):
        self.exercise = exercise

    def update(self, pose: Pose) -> list[Event]:
        return []

    def finish(self, t: float) -> list[Event]:
        return []


def make_analyzer(exercise: str) -> Analyzer:
    """The analyzer for a catalog exercise id (``auto`` recognises it from the motion)."""
    try:
        from formcheck.engine import create_analyzer
    except ImportError:  # the exercise engine is not installed yet
        return PoseOnlyAnalyzer(exercise)
    return create_analyzer(exercise)
