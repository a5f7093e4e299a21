"""The guided session as a small state machine, independent of any window or camera.

how-to -> exercising -> rest -> exercising (next set) ... -> how-to (next exercise) ... -> summary.
Keys: space pause/resume, enter start now (how-to / rest), n next exercise, r redo the set, p pain stop
(0-10 rating, then where, recorded as a ``PainReported`` event, then advice to see a clinician), q quit.
Time always comes from the caller (frame timestamps), so tests drive it with synthetic poses and events.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from formcheck.coaching.cues import CueBoard
from formcheck.coaching.plan import PlanItem
from formcheck.coaching.view import CLINICIAN_ADVICE, PAIN_LOCATIONS, ExerciseTally, HudView
from formcheck.core.events import (
    Event,
    FormWarning,
    HoldCompleted,
    HoldProgress,
    PainReported,
    RepCompleted,
    StateChanged,
)
from formcheck.core.result import Recognition, Series, Tagged
from formcheck.engine.base import Analyzer
from formcheck.engine.state import EngineState
from formcheck.pose.types import Pose

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


class CoachableAnalyzer(Analyzer, Protocol):
    """What the flow needs of a set's analyzer: the :class:`Analyzer` protocol, a reset per set and its state."""

    def reset(self) -> None:
        """Start a new set."""

    def current_state(self) -> EngineState:
        """The analyzer's state after the last pose."""


class Recorder(Protocol):
    """What the flow writes to (``formcheck.storage.database.SessionRecorder`` fits)."""

    def start_set(self, exercise: str, set_index: int = 1, target_reps: int | None = None,
                  target_hold_s: float | None = None, started_s: float = 0.0) -> None: ...

    def end_set(self, ended_s: float, status: str = "done") -> None: ...

    def record(self, events: list[Event]) -> None: ...


class SessionFlow:
    """Runs a plan of exercises: feeds poses to each set's analyzer, tracks targets, timers and keys.

    The flow is itself an :class:`~formcheck.engine.base.Analyzer`, so one :class:`~formcheck.pipeline.loop.FrameLoop`
    drives it like any analyzer (see :class:`formcheck.coaching.session.CoachedSession`): ``update`` returns the
    events of one exercise, named by ``exercise`` right after the call. Events that keys cause between frames
    (a pain report, a set closed early) are taken with :meth:`take_events`, tagged with their exercise.

    ``analyzer_factory(exercise_id)`` gives a set's analyzer; ``recorder`` receives sets and events as they happen;
    ``say`` and ``beep`` are optional voice hooks. Every warning is recorded; only the cue shown is throttled.
    """

    def __init__(
        self,
        plan: list[PlanItem],
        analyzer_factory: Callable[[str], CoachableAnalyzer],
        recorder: Recorder | None = None,
        *,
        title: str = "",
        intro_s: float = DEFAULT_INTRO_S,
        say: Callable[[str], None] | None = None,
        beep: Callable[[], None] | None = None,
        cues: CueBoard | None = None,
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
        self.cues = cues or CueBoard()
        self.tallies: dict[str, ExerciseTally] = {}
        for item in plan:
            tally = self.tallies.setdefault(item.exercise, ExerciseTally(item.exercise, item.name, item.kind))
            tally.sets_planned += item.sets
            tally.target_reps += (item.reps or 0) * item.sets
            tally.hold_target_s = item.hold_s or tally.hold_target_s
        self.series_by_exercise: dict[str, Series] = {}
        self.notices: list[str] = []
        self._analyzers: dict[str, CoachableAnalyzer] = {}
        self._side_events: list[Tagged] = []
        self._tag = plan[0].exercise
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
        self._message = ""
        self._engine: EngineState | None = None
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
    def analyzer(self) -> CoachableAnalyzer:
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

    @property
    def engine_state(self) -> EngineState | None:
        """The current set's analyzer state (None before the set's first analysed frame)."""
        return self._engine

    # --- the Analyzer protocol -------------------------------------------------------------------
    @property
    def exercise(self) -> str:
        """The exercise of the events the last :meth:`update` or :meth:`finish` returned."""
        return self._tag

    def update(self, pose: Pose) -> list[Event]:
        """One frame's pose: the events it caused (empty when not counting), all of the current exercise."""
        self.tick(pose.timestamp)
        self._person = pose.present
        if not self.counting:
            return []
        self._tag = self.item.exercise
        analyzer = self.analyzer
        events = list(analyzer.update(pose))
        self._engine = analyzer.current_state()
        self._handle(events, pose.timestamp)
        if self._set_open and self._target_reached():
            item = self.item
            if item.kind == "hold" or (item.hold_s and not item.reps):
                self._say("Well done")
            events += self._close_set(pose.timestamp, "done")
            self._after_set(pose.timestamp)
        return events

    def finish(self, t: float) -> list[Event]:
        """The stream ended: close the set in progress (its last events are returned)."""
        self._tag = self.item.exercise
        return self._close_set(t, "stopped")

    def series(self) -> Series:
        """The signal series of :attr:`exercise` over all its sets (every exercise's: ``series_by_exercise``)."""
        return self.series_by_exercise.get(self._tag, {"t": [], "target_band": {}})

    def summary(self) -> dict:
        """Counts of :attr:`exercise` over the session (its per-exercise tallies: ``summary_rows``)."""
        tally = self.tallies[self._tag]
        return {"reps": tally.reps, "holds": len(tally.holds)}

    def recognition(self) -> Recognition | None:
        """A one-exercise session's exercise is given; a programme has several (None)."""
        exercises = {i.exercise for i in self.plan}
        return Recognition(self.plan[0].exercise, 1.0, "given") if len(exercises) == 1 else None

    def take_events(self) -> list[Tagged]:
        """Events caused outside :meth:`update` since the last call (keys, pain reports, the source ending)."""
        out, self._side_events = self._side_events, []
        return out

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
            self.end_open_set(t, "stopped")
            self.ended_by = "quit"
            self._enter_summary(t)
        elif key == "space":
            self._toggle_pause(t)
        elif key == "enter" and self.phase in (Phase.HOWTO, Phase.REST) and not self.paused:
            self._timer_end = t
            self.tick(t)
        elif key == "n":
            self.end_open_set(t, "skipped")
            self.paused = False
            self._next_item(t)
        elif key == "r" and self.phase == Phase.EXERCISE:
            self._redo_set(t)

    def pain_stop(self, t: float) -> None:
        """Stop at once and ask for a pain rating."""
        self.end_open_set(t, "stopped")
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
            self.notices.append(notice)
        if self.phase in (Phase.PAIN_RATING, Phase.PAIN_LOCATION, Phase.PAIN_ADVICE, Phase.SUMMARY, Phase.DONE):
            return
        self.end_open_set(t, "stopped")
        self.ended_by = self.ended_by or ("interrupted" if notice else "source ended")
        self._enter_summary(t)

    def end_open_set(self, t: float, status: str = "stopped") -> None:
        """Close the set in progress, if any (its last events are taken with :meth:`take_events`)."""
        exercise = self.item.exercise
        self._side_events += [Tagged(exercise, e) for e in self._close_set(t, status)]

    # --- output ----------------------------------------------------------------------------------
    def view(self) -> HudView:
        item, engine = self.item, self._engine
        timer = None if self._timer_end is None else max(0.0, self._timer_end - self.t)
        if self.paused and self._paused_remaining is not None:
            timer = self._paused_remaining
        cue = self.cues.current(self.t) if self.phase == Phase.EXERCISE else None
        message = ""
        if self.phase == Phase.EXERCISE:
            if not self._person:
                message = "Step into view"
            elif engine is not None and engine.state != "active":
                message = engine.message or self._message
            elif self._message and engine is None:
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
            cue=cue.message if cue else "",
            message=message,
            flagged_joints=cue.joints if cue else frozenset(),
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

    def summary_rows(self) -> list[dict]:
        return [t.to_dict() for t in self.tallies.values()]

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
        self._engine = None
        self._message = ""
        self.analyzer.reset()
        self.cues.reset()
        if self.recorder is not None:
            self.recorder.start_set(item.exercise, self.set_index, item.reps, item.hold_s, t)
        self._set_open = True
        self._say("Go" if item.sets == 1 else f"Set {self.set_index} of {item.sets}. Go")

    def _close_set(self, t: float, status: str) -> list[Event]:
        """End the open set: flush the analyzer (open holds), record, keep its series; its last events."""
        if not self._set_open:
            return []
        self._set_open = False
        events = list(self.analyzer.finish(t))
        self._handle(events, t)
        _merge_series(self.series_by_exercise.setdefault(self.item.exercise, {}), self.analyzer.series())
        tally = self.tallies[self.item.exercise]
        if status == "done":
            tally.sets_done += 1
        if self.recorder is not None:
            self.recorder.end_set(t, status)
        return events

    def _handle(self, events: list[Event], t: float) -> None:
        if not events:
            return
        item, tally = self.item, self.tallies[self.item.exercise]
        for e in events:
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
                tally.warnings += 1  # every warning counts; only the cue shown is throttled
                joints = self._engine.joints_of(e.rule) if self._engine is not None else ()
                cue = self.cues.offer(e, joints)
                if cue is not None and cue.speak:
                    self._say(e.message)
            elif isinstance(e, StateChanged):
                self._message = e.message
        if self.recorder is not None:
            self.recorder.record(events)

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
            self.end_open_set(t, "redone")
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
        self._side_events.append(Tagged(self.item.exercise, event))
        self.tallies[self.item.exercise].pain.append(event.rating)
        if self.recorder is not None:
            self.recorder.record([event])
        self.phase = Phase.PAIN_ADVICE
        self._say("Thank you. Please see a clinician before you continue.")
        return event


def _merge_series(into: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, list):
            into.setdefault(key, []).extend(value)
        else:
            into[key] = value
