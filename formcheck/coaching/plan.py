"""The plan of a guided session: one :class:`PlanItem` per exercise, from the catalog or a programme."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.engine import load_spec
from formcheck.engine.spec import ExerciseSpec

CAMERA_TEXT = {"side": "Place the camera to your side, whole body in view",
               "front": "Face the camera, whole body in view"}


@dataclass(frozen=True)
class PlanItem:
    """One exercise of the session with its targets and how-to text."""

    exercise: str
    name: str
    kind: str = "reps"  # "reps" | "hold" | "rate"
    sets: int = 1
    reps: int | None = None
    hold_s: float | None = None
    rest_s: float = 30.0
    warmup: bool = False
    instructions: tuple[str, ...] = ()
    camera: str = ""

    def to_dict(self) -> dict:
        """What a client needs to show the plan (the WebSocket's "session" message)."""
        return {"exercise": self.exercise, "name": self.name, "kind": self.kind, "sets": self.sets,
                "reps": self.reps, "hold_s": self.hold_s, "rest_s": self.rest_s, "warmup": self.warmup}


def camera_text(spec: ExerciseSpec) -> str:
    """Where to put the camera, in words: the spec's hint, else one for its view."""
    return spec.camera.hint or CAMERA_TEXT.get(spec.camera.view, "Whole body in view")


def plan_item(exercise_id: str, *, sets=None, reps=None, hold_s=None, rest_s=None, warmup=False) -> PlanItem:
    """A plan item for a catalog exercise; targets not given come from the exercise's spec.

    Unknown ids raise ``KeyError`` (listing the catalog), invalid spec files ``SpecError``."""
    spec = load_spec(exercise_id)
    targets = spec.targets
    kind = spec.kind
    if reps is None and hold_s is None:
        reps, hold_s = targets.reps, targets.hold_s
        if kind == "hold":  # a hold spec's "reps" is how many holds: one hold per set here
            sets = sets or max(targets.sets, targets.reps or 1)
            reps = None
    if reps is None and hold_s is None:
        reps = 10
    return PlanItem(
        exercise=exercise_id,
        name=spec.name or exercise_id.replace("_", " ").capitalize(),
        kind=kind,
        sets=sets or targets.sets,
        reps=reps,
        hold_s=hold_s,
        rest_s=rest_s if rest_s is not None else targets.rest_s,
        warmup=warmup,
        instructions=tuple(spec.instructions),
        camera=camera_text(spec),
    )


def plan_for_programme(programme) -> list[PlanItem]:
    """The plan of a :class:`formcheck.programmes.Programme`."""
    return [
        plan_item(i.exercise, sets=i.sets, reps=i.reps, hold_s=i.hold_s, rest_s=i.rest_s, warmup=i.warmup)
        for i in programme.items
    ]
