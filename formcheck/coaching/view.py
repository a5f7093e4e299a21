"""What a guided session shows: the HUD's plain data (:class:`HudView`), per-exercise tallies for the summary
screen, and the JSON snapshot a browser draws (the WebSocket's per-frame ``snapshot``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from formcheck.engine.state import EngineState

PAIN_LOCATIONS = ("lower back", "upper back or neck", "hip or buttock", "left leg", "right leg", "somewhere else")
CLINICIAN_ADVICE = (
    "Please stop exercising for today and see a clinician (your physiotherapist or doctor) before you continue. "
    "Get urgent help if pain spreads down a leg with numbness or weakness, or if bladder or bowel control changes."
)
REST_MESSAGE = "Rest {s:.0f} s. Next: {next}"
DONE_MESSAGE = "That was the last exercise: press Stop to save the session."


@dataclass
class ExerciseTally:
    """Per-exercise totals for the summary screen and the report."""

    exercise: str
    name: str
    kind: str
    sets_planned: int = 0
    sets_done: int = 0
    target_reps: int = 0
    reps: int = 0
    scores: list[float] = field(default_factory=list)
    holds: list[float] = field(default_factory=list)
    hold_target_s: float | None = None
    warnings: int = 0
    pain: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise,
            "name": self.name,
            "kind": self.kind,
            "sets_planned": self.sets_planned,
            "sets_done": self.sets_done,
            "reps": self.reps,
            "target_reps": self.target_reps or None,
            "avg_score": round(sum(self.scores) / len(self.scores), 1) if self.scores else None,
            "holds_s": [round(h, 1) for h in self.holds],
            "hold_target_s": self.hold_target_s,
            "warnings": self.warnings,
            "pain": list(self.pain),
        }


@dataclass
class HudView:
    """Everything the preview shows for one frame (plain data: the HUD draws it, tests read it)."""

    phase: str
    paused: bool = False
    exercise: str = ""
    name: str = ""
    kind: str = "reps"
    warmup: bool = False
    item_index: int = 0
    items: int = 0
    set_index: int = 0
    sets: int = 0
    reps: int = 0
    target_reps: int | None = None
    hold_s: float = 0.0
    hold_target_s: float | None = None
    holding: bool = False
    last_score: float | None = None
    cue: str = ""
    message: str = ""
    flagged_joints: frozenset[int] = frozenset()
    timer_s: float | None = None
    instructions: tuple[str, ...] = ()
    camera: str = ""
    next_name: str = ""
    pain_rating: int | None = None
    pain_locations: tuple[str, ...] = PAIN_LOCATIONS
    advice: str = ""
    summary: list[dict] = field(default_factory=list)
    ended_by: str = ""
    notice: str = ""

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["flagged_joints"] = sorted(self.flagged_joints)
        d["instructions"] = list(self.instructions)
        d["pain_locations"] = list(self.pain_locations)
        return d


def frame_snapshot(view: HudView, engine: EngineState | None, finished: bool) -> dict:
    """The per-frame ``snapshot`` a browser draws: the engine's state of the set in progress (while exercising)
    with the session's phase, set, targets, rest timer and the cue on screen (throttled like the preview's)."""
    snap: dict = {}
    if engine is not None and view.phase == "exercise":
        snap = {"state": engine.state, "message": engine.message, "angles": dict(engine.angles),
                "side": engine.side, "phase_of_rep": engine.phase}
        if engine.rate_per_min is not None:
            snap["rate_per_min"] = engine.rate_per_min
    snap.update(exercise=view.exercise, name=view.name, kind=view.kind, reps=view.reps,
                target_reps=view.target_reps, hold_s=view.hold_s, hold_target_s=view.hold_target_s,
                holding=view.holding, cue=view.cue, flagged_joints=sorted(view.flagged_joints),
                phase=view.phase, set_index=view.set_index, sets=view.sets, timer_s=view.timer_s,
                paused=view.paused)
    if view.phase == "rest":
        snap.update(state="rest", message=REST_MESSAGE.format(s=view.timer_s or 0, next=view.next_name))
    elif view.phase in ("pain_rating", "pain_location", "pain_advice"):
        snap.update(state="pain", message=CLINICIAN_ADVICE)
    elif finished:
        snap.update(state="done", message=DONE_MESSAGE)
    return snap
