"""Events the analysis emits. Plain dataclasses; ``to_dict`` gives their JSON form (with a ``type`` key)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Event:
    t: float  # seconds from the start of the source

    @property
    def type(self) -> str:
        return _TYPE_NAMES[type(self)]

    def to_dict(self) -> dict:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    """Counting state, e.g. ``out_of_view``, ``get_into_position``, ``active``; ``message`` is shown to the person."""

    state: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class RepCompleted(Event):
    index: int  # 1-based
    start_s: float
    end_s: float
    range_of_motion: float  # degrees (or the driving signal's unit) reached
    tempo_s: float
    score: float  # 0..100
    faults: tuple[str, ...] = ()
    score_parts: dict = field(default_factory=dict)
    side: str | None = None


@dataclass(frozen=True, slots=True)
class HoldProgress(Event):
    held_s: float
    target_s: float
    holding: bool = True


@dataclass(frozen=True, slots=True)
class HoldCompleted(Event):
    start_s: float
    end_s: float
    duration_s: float
    target_s: float
    faults: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FormWarning(Event):
    rule: str
    message: str
    severity: str = "warning"  # "info" | "warning" | "error"
    confidence: float = 1.0  # 0.5..1: how clearly past its threshold, and how well its joints were seen


@dataclass(frozen=True, slots=True)
class PainReported(Event):
    rating: int  # 0..10
    location: str = ""
    note: str = ""


_TYPE_NAMES = {
    StateChanged: "state",
    RepCompleted: "rep",
    HoldProgress: "hold_progress",
    HoldCompleted: "hold",
    FormWarning: "warning",
    PainReported: "pain",
}
