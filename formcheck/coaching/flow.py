"""The guided session as a small state machine, independent of any window or camera.

how-to -> exercising -> rest -> exercising (next set) ... -> how-to (next exercise) ... -> summary.
Keys: space pause/resume, enter start now (how-to / rest), n next exercise, r redo the set, p pain stop
(0-10 rating, then where, recorded as a ``PainReported`` event, then advice to see a clinician), q quit.
Time always comes from the caller (frame timestamps), so tests drive it with synthetic poses and events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from formcheck.core.events import (
    Event,
    FormWarning,
    HoldCompleted,
    HoldProgress,
    PainReported,
    RepCompleted,
    StateChanged,
)
from formcheck.core.result import AnalysisResult
from formcheck.pose.landmarks import NAMES
from formcheck.pose.types import Pose

PAIN_LOCATIONS = ("lower back", "upper back or neck", "hip or buttock", "left leg", "right leg", "somewhere else")
CLINICIAN_ADVICE = (
    "Please stop exercising for today and see a clinician (your physiotherapist or doctor) before you continue. "
    "Get urgent help if pain spreads down a leg with numbness or weakness, or if bladder or bowel control changes."
)
CUE_SHOW_S = 3.0
DEFAULT_INTRO_S = 8.0


class Phase(StrEnum):
    HOWTO = "howto"
    EXERCISE = "exercise"
    REST = "rest"
    PAIN_RATING = "pain_rating"
    PAIN_LOCATION = "pain_location"
    PAIN_ADVICE = "pain_advice"
    SUMMARY = "summary"
    DONE = "done"


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


class Recorder(Protocol):
    """What the flow writes to (``formcheck.storage.database.SessionRecorder`` fits)."""

    def start_set(self, exercise: str, set_index: int = 1, target_reps: int | None = None,
                  target_hold_s: float | None = None, started_s: float = 0.0) -> None: ...

    def end_set(self, ended_s: float, status: str = "done") -> None: ...

    def record(self, events: list[Event]) -> None: ...


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


class SessionFlow:
    """Runs a plan of exercises: feeds poses to each set's analyzer, tracks targets, timers and keys.

    ``analyzer_factory(exercise_id)`` gives an analyzer (``update``, ``finish``, optional ``reset``,
    ``snapshot``, ``series``); ``recorder`` receives sets and events as they happen; ``say`` and ``beep``
    are optional voice hooks.
    """

    def __init__(
        self,
        plan: list[PlanItem],
        analyzer_factory: Callable[[str], object],
        recorder: Recorder | None = None,
        *,
        title: str = "",
        intro_s: float = DEFAULT_INTRO_S,
        say: Callable[[str], None] | None = None,
        beep: Callable[[], None] | None = None,
        model: str = "full",
        source: str = "",
    ):
        if not plan:
            raise ValueError("the session has no exercises")
        self.plan = plan
        self.analyzer_factory = analyzer_factory
        self.recorder = recorder
        self.title = title or plan[0].name
        self.intro_s = max(0.0, intro_s)
        self._say = say or (lambda text: None)
        self._beep = beep or (lambda: None)
        self.report = AnalysisResult(exercise=self.title, model=model, source=source)
        self.tallies: dict[str, ExerciseTally] = {}
        for item in plan:
            tally = self.tallies.setdefault(item.exercise, ExerciseTally(item.exercise, item.name, item.kind))
            tally.sets_planned += item.sets
            tally.target_reps += (item.reps or 0) * item.sets
            tally.hold_target_s = item.hold_s or tally.hold_target_s
        self.series: dict[str, dict] = {}
        self._analyzers: dict[str, object] = {}
        self.phase = Phase.HOWTO
        self.paused = False
        self.item_index = 0
        self.set_index = 1
        self.t = 0.0
        self.started = False
        self.ended_by = ""
        self.notice = ""
        self._timer_end: float | None = None
        self._paused_remaining: float | None = None
        self._last_beep_s: int | None = None
        self._set_open = False
        self._reps = 0
        self._last_score: float | None = None
        self._hold_s = 0.0
        self._holding = False
        self._cue, self._cue_until = "", 0.0
        self._last_spoken_cue = -1e9
        self._message = ""
        self._snapshot: dict = {}
        self._person = True
        self._pain_rating: int | None = None
        self._phase_started = 0.0
        self._rest_then_same_item = False
        self._hold_event_target: float | None = None

    # --- properties ------------------------------------------------------------------------------
    @property
    def item(self) -> PlanItem:
        return self.plan[min(self.item_index, len(self.plan) - 1)]

    @property
    def analyzer(self):
        ex = self.item.exercise
        if ex not in self._analyzers:
            self._analyzers[ex] = self.analyzer_factory(ex)
        return self._analyzers[ex]

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.SUMMARY, Phase.DONE)

    @property
    def counting(self) -> bool:
        """Poses go to the analyzer now."""
        return self.phase == Phase.EXERCISE and not self.paused

    # --- inputs ----------------------------------------------------------------------------------
    def start(self, t: float) -> None:
        self.t = t
        self.started = True
        self._enter_howto(t)

    def tick(self, t: float) -> None:
        """Advance the clock: how-to and rest countdowns, beeps."""
        if not self.started:
            self.start(t)
        self.t = max(self.t, t)
        if self.paused or self._timer_end is None:
            return
        remaining = self._timer_end - self.t
        whole = int(remaining) + 1
        if remaining <= 3 and whole != self._last_beep_s and remaining > 0:
            self._last_beep_s = whole
            self._beep()
        if remaining <= 0:
            self._timer_end = None
            if self.phase == Phase.HOWTO:
                self._start_set(self.t)
            elif self.phase == Phase.REST:
                self._after_rest(self.t)

    def update(self, pose: Pose) -> list[Event]:
        """One frame's pose: returns the analyzer's events (empty when not counting)."""
        self.tick(pose.timestamp)
        self._person = pose.present
        if not self.counting:
            return []
        analyzer = self.analyzer
        events = list(analyzer.update(pose))
        snapshot = getattr(analyzer, "snapshot", None)
        self._snapshot = snapshot() if snapshot else {}
        self._handle(events, pose.timestamp)
        return events

    def key(self, key: str, t: float | None = None) -> None:
        """A key press: ``space``, ``enter``, ``esc`` or a character."""
        t = self.t if t is None else max(self.t, t)
        self.t = t
        if not self.started:
            self.start(t)
        if self.phase == Phase.PAIN_RATING:
            self._pain_rating_key(key, t)
        elif self.phase == Phase.PAIN_LOCATION:
            self._pain_location_key(key, t)
        elif self.phase == Phase.PAIN_ADVICE:
            if key in ("enter", "esc", "q", "space"):
                self._enter_summary(t)
        elif self.phase == Phase.SUMMARY:
            if key in ("enter", "esc", "q", "space"):
                self.phase = Phase.DONE
        elif key == "p":
            self.pain_stop(t)
        elif key in ("q", "esc"):
            self._close_set(t, "stopped")
            self.ended_by = "quit"
            self._enter_summary(t)
        elif key == "space":
            self._toggle_pause(t)
        elif key == "enter" and self.phase in (Phase.HOWTO, Phase.REST) and not self.paused:
            self._timer_end = t
            self.tick(t)
        elif key == "n":
            self._close_set(t, "skipped")
            self.paused = False
            self._next_item(t)
        elif key == "r" and self.phase == Phase.EXERCISE:
            self._redo_set(t)

    def pain_stop(self, t: float) -> None:
        """Stop at once and ask for a pain rating."""
        self._close_set(t, "stopped")
        self.paused = False
        self._timer_end = None
        self._pain_rating = None
        self.ended_by = "pain"
        self.phase = Phase.PAIN_RATING
        self._say("Stopped. How strong is the pain, from 0 to 10?")

    def report_pain(self, t: float, rating: int, location: str, note: str = "") -> PainReported:
        """A pain stop answered at once (rating and where, e.g. from a web page's form): stops like ``p``,
        records the report and shows the advice to see a clinician."""
        t = max(self.t, t)
        if self.phase not in (Phase.PAIN_RATING, Phase.PAIN_LOCATION):
            self.pain_stop(t)
        self._pain_rating = max(0, min(10, int(rating)))
        return self._record_pain(t, location, note)

    def source_ended(self, t: float, notice: str | None = None) -> None:
        """The camera or video stopped: close the set and show the summary (pain questions stay open)."""
        self.tick(t)
        if notice:
            self.notice = notice
            self.report.notices.append(notice)
        if self.phase in (Phase.PAIN_RATING, Phase.PAIN_LOCATION, Phase.PAIN_ADVICE, Phase.SUMMARY, Phase.DONE):
            return
        self._close_set(t, "stopped")
        self.ended_by = self.ended_by or ("interrupted" if notice else "source ended")
        self._enter_summary(t)

    def end_open_set(self, t: float, status: str = "stopped") -> None:
        """Close the set in progress, if any (its events are recorded)."""
        self._close_set(t, status)

    # --- output ----------------------------------------------------------------------------------
    def view(self) -> HudView:
        item, snap = self.item, self._snapshot
        timer = None if self._timer_end is None else max(0.0, self._timer_end - self.t)
        if self.paused and self._paused_remaining is not None:
            timer = self._paused_remaining
        cue = self._cue if self.t < self._cue_until else ""
        message = ""
        if self.phase == Phase.EXERCISE:
            if not self._person:
                message = "Step into view"
            elif snap.get("state", "active") != "active":
                message = snap.get("message") or self._message
            elif self._message and not snap:
                message = self._message
        nxt = self.plan[self.item_index + 1].name if self.item_index + 1 < len(self.plan) else ""
        if self.phase == Phase.REST and self.set_index <= item.sets and self._rest_then_same_item:
            nxt = f"{item.name}, set {self.set_index} of {item.sets}"
        return HudView(
            phase=self.phase.value,
            paused=self.paused,
            exercise=item.exercise,
            name=item.name,
            kind=item.kind,
            warmup=item.warmup,
            item_index=self.item_index,
            items=len(self.plan),
            set_index=min(self.set_index, item.sets),
            sets=item.sets,
            reps=self._reps,
            target_reps=item.reps,
            hold_s=self._hold_s,
            hold_target_s=item.hold_s or self._hold_event_target,
            holding=self._holding,
            last_score=self._last_score,
            cue=cue,
            message=message,
            flagged_joints=_joint_indices(snap.get("flagged_joints", ())) if cue else frozenset(),
            timer_s=timer,
            instructions=item.instructions,
            camera=item.camera,
            next_name=nxt,
            pain_rating=self._pain_rating,
            advice=CLINICIAN_ADVICE if self.phase == Phase.PAIN_ADVICE else "",
            summary=self.summary_rows() if self.finished else [],
            ended_by=self.ended_by,
            notice=self.notice,
        )

    @property
    def engine_snapshot(self) -> dict:
        """The current set's analyzer snapshot (empty before the first analysed frame or without an engine)."""
        return dict(self._snapshot)

    def summary_rows(self) -> list[dict]:
        return [t.to_dict() for t in self.tallies.values()]

    def report_dict(self) -> dict:
        """The session report (``AnalysisResult`` form) with per-exercise totals under ``summary``."""
        d = self.report.to_dict()
        d["summary"] = {"exercises": self.summary_rows(), "ended_by": self.ended_by or "completed",
                        "programme": self.title}
        return d

    # --- internals -------------------------------------------------------------------------------
    def _enter_howto(self, t: float) -> None:
        self.phase = Phase.HOWTO
        self.set_index = 1
        self._phase_started = t
        item = self.item
        self._reps, self._hold_s, self._holding, self._last_score = 0, 0.0, False, None
        self._timer_end = t + self.intro_s
        self._last_beep_s = None
        lead = "Warm-up" if item.warmup else "Next"
        first = item.instructions[0] if item.instructions else ""
        self._say(f"{lead}: {item.name}. {first}")
        if self.intro_s <= 0:
            self._timer_end = None
            self._start_set(t)

    def _start_set(self, t: float) -> None:
        item = self.item
        self.phase = Phase.EXERCISE
        self._phase_started = t
        self._reps, self._hold_s, self._holding = 0, 0.0, False
        self._hold_event_target = None
        self._last_score = None
        self._snapshot = {}
        self._message = ""
        reset = getattr(self.analyzer, "reset", None)
        if reset is not None:
            reset()
        if self.recorder is not None:
            self.recorder.start_set(item.exercise, self.set_index, item.reps, item.hold_s, t)
        self._set_open = True
        self._say("Go" if item.sets == 1 else f"Set {self.set_index} of {item.sets}. Go")

    def _close_set(self, t: float, status: str) -> None:
        """End the open set: flush the analyzer (open holds), record, keep its series."""
        if not self._set_open:
            return
        self._set_open = False
        self._handle(list(self.analyzer.finish(t)), t)
        _merge_series(self.series.setdefault(self.item.exercise, {}), self.analyzer.series())
        self.report.series = self.series
        tally = self.tallies[self.item.exercise]
        if status == "done":
            tally.sets_done += 1
        if self.recorder is not None:
            self.recorder.end_set(t, status)

    def _handle(self, events: list[Event], t: float) -> None:
        if not events:
            return
        item, tally = self.item, self.tallies[self.item.exercise]
        for e in events:
            self.report.add(e, item.exercise)
            if isinstance(e, RepCompleted):
                self._reps += 1
                tally.reps += 1
                tally.scores.append(e.score)
                self._last_score = e.score
                self._say(str(self._reps))
                if item.kind != "hold":  # a hold within a repetition (e.g. 3 s at the top) ends with it
                    self._hold_s, self._holding = 0.0, False
            elif isinstance(e, HoldProgress):
                self._hold_s, self._holding = e.held_s, e.holding
                self._hold_event_target = e.target_s
            elif isinstance(e, HoldCompleted):
                tally.holds.append(e.duration_s)
                self._hold_s, self._holding = max(self._hold_s, e.duration_s), False
            elif isinstance(e, FormWarning):
                tally.warnings += 1
                self._cue, self._cue_until = e.message, e.t + CUE_SHOW_S
                if e.t - self._last_spoken_cue > 4.0:
                    self._last_spoken_cue = e.t
                    self._say(e.message)
            elif isinstance(e, StateChanged):
                self._message = e.message
        if self.recorder is not None:
            self.recorder.record(events)
        if self.phase == Phase.EXERCISE and self._set_open and self._target_reached():
            if item.kind == "hold" or (item.hold_s and not item.reps):
                self._say("Well done")
            self._close_set(t, "done")
            self._after_set(t)

    def _target_reached(self) -> bool:
        item = self.item
        if item.reps:
            return self._reps >= item.reps
        if item.hold_s:
            return self._hold_s >= item.hold_s
        return False

    def _after_set(self, t: float) -> None:
        item = self.item
        if self.set_index < item.sets:
            self.set_index += 1
            self._rest_then_same_item = True
            self._enter_rest(t, item.rest_s)
        elif self.item_index + 1 < len(self.plan):
            self._rest_then_same_item = False
            self._enter_rest(t, item.rest_s)
        else:
            self.ended_by = "completed"
            self._say("Session complete. Well done")
            self._enter_summary(t)

    def _enter_rest(self, t: float, seconds: float) -> None:
        self.phase = Phase.REST
        self._phase_started = t
        self._timer_end = t + seconds
        self._last_beep_s = None
        if seconds > 0:
            self._say(f"Rest {seconds:.0f} seconds")
        else:
            self.tick(t)

    def _after_rest(self, t: float) -> None:
        if self._rest_then_same_item:
            self._start_set(t)
        else:
            self.item_index += 1
            self._enter_howto(t)

    def _next_item(self, t: float) -> None:
        if self.item_index + 1 < len(self.plan):
            self.item_index += 1
            self._enter_howto(t)
        else:
            self.ended_by = "completed"
            self._enter_summary(t)

    def _redo_set(self, t: float) -> None:
        tally = self.tallies[self.item.exercise]
        if self._set_open:
            tally.reps -= self._reps
            if self._reps:
                del tally.scores[-self._reps :]
            self._close_set(t, "redone")
        self.paused = False
        self._timer_end = None
        self._say("Again")
        self._start_set(t)

    def _toggle_pause(self, t: float) -> None:
        if self.phase not in (Phase.HOWTO, Phase.EXERCISE, Phase.REST):
            return
        if not self.paused:
            self.paused = True
            self._paused_remaining = None if self._timer_end is None else max(0.0, self._timer_end - t)
            self._say("Paused")
        else:
            self.paused = False
            if self._paused_remaining is not None:
                self._timer_end = t + self._paused_remaining
            self._paused_remaining = None

    def _enter_summary(self, t: float) -> None:
        self.phase = Phase.SUMMARY
        self._timer_end = None
        self.paused = False
        self._phase_started = t

    def _pain_rating_key(self, key: str, t: float) -> None:
        if key.isdigit() and len(key) == 1:
            self._pain_rating = int(key)
        elif key == "+":
            self._pain_rating = min(10, (self._pain_rating or 0) + 1)
        elif key == "-":
            self._pain_rating = max(0, (self._pain_rating or 0) - 1)
        elif key == "enter" and self._pain_rating is not None:
            self.phase = Phase.PAIN_LOCATION
            self._say("Where is the pain?")

    def _pain_location_key(self, key: str, t: float) -> None:
        if not (key.isdigit() and 1 <= int(key) <= len(PAIN_LOCATIONS)):
            return
        self._record_pain(t, PAIN_LOCATIONS[int(key) - 1])

    def _record_pain(self, t: float, location: str, note: str = "") -> PainReported:
        note = note or f"pain stop during {self.item.name}"
        event = PainReported(t, int(self._pain_rating or 0), location, note=note)
        self.report.add(event, self.item.exercise)
        self.tallies[self.item.exercise].pain.append(event.rating)
        if self.recorder is not None:
            self.recorder.record([event])
        self.phase = Phase.PAIN_ADVICE
        self._say("Thank you. Please see a clinician before you continue.")
        return event


def _joint_indices(joints) -> frozenset[int]:
    out = set()
    for j in joints or ():
        if isinstance(j, int):
            out.add(j)
        elif isinstance(j, str) and j.lower() in NAMES:
            out.add(NAMES.index(j.lower()))
    return frozenset(out)


def _merge_series(into: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, list):
            into.setdefault(key, []).extend(value)
        else:
            into[key] = value


# --- plans ---------------------------------------------------------------------------------------
def _spec(exercise_id: str):
    try:
        from formcheck.engine import load_spec
    except ImportError:
        return None
    return load_spec(exercise_id)


def _camera_text(spec) -> str:
    camera = getattr(spec, "camera", None)
    if camera is None:
        return ""
    if isinstance(camera, str):
        return camera
    hint = getattr(camera, "hint", "")
    view = getattr(camera, "view", "")
    if hint:
        return hint
    return {"side": "Place the camera to your side, whole body in view",
            "front": "Face the camera, whole body in view"}.get(view, "Whole body in view")


def plan_item(exercise_id: str, *, sets=None, reps=None, hold_s=None, rest_s=None, warmup=False) -> PlanItem:
    """A plan item for a catalog exercise; targets not given come from the exercise's spec."""
    spec = _spec(exercise_id)
    targets = getattr(spec, "targets", None)
    kind = getattr(spec, "kind", None) or ("hold" if hold_s and not reps else "reps")
    if reps is None and hold_s is None and targets is not None:
        reps, hold_s = targets.reps, targets.hold_s
        if kind == "hold":  # a hold spec's "reps" is how many holds: one hold per set here
            sets = sets or max(targets.sets, targets.reps or 1)
            reps = None
    if reps is None and hold_s is None:
        reps = 10
    instructions = getattr(spec, "instructions", ()) or ()
    if isinstance(instructions, str):
        instructions = (instructions,)
    return PlanItem(
        exercise=exercise_id,
        name=getattr(spec, "name", None) or exercise_id.replace("_", " ").capitalize(),
        kind=kind,
        sets=sets or (targets.sets if targets is not None else 1),
        reps=reps,
        hold_s=hold_s,
        rest_s=rest_s if rest_s is not None else (targets.rest_s if targets is not None else 30.0),
        warmup=warmup,
        instructions=tuple(instructions),
        camera=_camera_text(spec),
    )


def plan_for_programme(programme) -> list[PlanItem]:
    """The plan of a :class:`formcheck.programmes.Programme`."""
    return [
        plan_item(i.exercise, sets=i.sets, reps=i.reps, hold_s=i.hold_s, rest_s=i.rest_s, warmup=i.warmup)
        for i in programme.items
    ]
