"""``EngineState``: what an exercise analyzer knows right now, as plain data (no presentation).

Coaching turns it into what a person sees (:mod:`formcheck.coaching.view`); the engine never decides what is shown."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EngineState:
    """The analyzer's state after the last pose.

    ``warning_joints`` maps each rule that warned during the current repetition or hold to the landmark indices of
    its signal (the joints to highlight when that warning is shown); ``last_warning`` is the latest rule that warned."""

    exercise: str
    state: str = ""  # e.g. "out_of_view", "get_into_position", "active", "resting"
    message: str = ""
    reps: int = 0
    hold_s: float = 0.0
    holding: bool = False
    angles: dict[str, float | None] = field(default_factory=dict)
    side: str | None = None
    phase: str = "rest"  # the repetition's phase: "rest", "moving", "target", "returning", "hold"
    rate_per_min: float | None = None
    last_warning: str | None = None
    warning_joints: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def joints_of(self, rule: str | None) -> tuple[int, ...]:
        """The joints a warning of ``rule`` is about (empty when that rule has not warned)."""
        return self.warning_joints.get(rule, ()) if rule else ()
