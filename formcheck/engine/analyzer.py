"""``ExerciseAnalyzer``: runs one exercise spec over a pose stream (live, file, server and tests alike)."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from formcheck.core.events import Event, FormWarning, HoldCompleted, HoldProgress, RepCompleted, StateChanged
from formcheck.core.result import Recognition, Series, summarise
from formcheck.engine.counter import PENDING, Rep, RepCounter
from formcheck.engine.geometry import OTHER, SIDES, BodyGeometry
from formcheck.engine.hold import HoldTimer
from formcheck.engine.rules import RuleState, in_range, noise_scale
from formcheck.engine.scoring import score_rep
from formcheck.engine.second_opinion import SecondOpinion
from formcheck.engine.signals import SignalBank, signal_landmarks
from formcheck.engine.spec import ExerciseSpec
from formcheck.engine.state import EngineState
from formcheck.pose.types import Pose

UPRIGHT_POSITIONS = {"standing", "seated", "kneeling"}
POSITION_MESSAGES = {
    "standing": "stand up",
    "seated": "sit upright on a chair",
    "kneeling": "kneel upright",
    "supine": "lie down on your back",
    "prone": "get down: face the floor",
    "side-lying": "lie down on your side",
    "quadruped": "get down on your hands and knees",
}
VIEW_MESSAGES = {
    ("side", True): "lie down with your side to the camera",
    ("side", False): "turn sideways to the camera",
    ("front", True): "place the camera at your feet or head",
    ("front", False): "face the camera",
}
STATE_DEBOUNCE_S = 0.5
SERIES_STEP_S = 0.1
PROGRESS_STEP_S = 0.25
MOTION_WINDOW_S = 4.0
REST_SETTLE_FRACTION = 0.1  # a repetition ends once back at rest for a tenth of its duration (any tempo) ...
REST_SETTLE_MAX_S = 0.6  # ... and at most this long, so live feedback on a slow repetition is not late
HOLD_BAND = 0.4  # a hold at the target: within this fraction of the repetition's range from its extreme
POSTURE_TOLERANCE_M = 0.15  # a partly seen hold: the seen joints within this of the held posture (world, metres)
STILL_WINDOW_S = 0.5  # a hold starts once the person has settled into it: its signals steady over this long ...
STILL_BAND = {"angle": 8.0, "incline": 8.0, "height": 0.08, "distance": 0.08}  # ... within this range


class RecentRange:
    """Range (max - min) of a signal over the last ``window_s`` seconds (monotonic queues: O(1) per sample)."""

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._max: deque[tuple[float, float]] = deque()
        self._min: deque[tuple[float, float]] = deque()

    def add(self, t: float, v: float) -> None:
        if math.isfinite(v):
            while self._max and self._max[-1][1] <= v:
                self._max.pop()
            self._max.append((t, v))
            while self._min and self._min[-1][1] >= v:
                self._min.pop()
            self._min.append((t, v))
        for q in (self._max, self._min):
            while q and q[0][0] < t - self.window_s:
                q.popleft()

    def reset(self) -> None:
        self._max.clear()
        self._min.clear()

    def range(self) -> float:
        if not self._max:
            return 0.0
        return self._max[0][1] - self._min[0][1]


class ExerciseAnalyzer:
    """Turns poses into events for one exercise: states, repetitions (with scores), holds and form warnings.

    Every warning a rule raises is an event (once per rule per repetition or hold); how many of them a person is
    shown or told is coaching's choice (:mod:`formcheck.coaching.cues`), not the engine's."""

    def __init__(self, spec: ExerciseSpec):
        self.spec = spec
        self.exercise = spec.id
        self.bank = SignalBank(spec.signals, image_view=spec.camera.view)
        self.rules = [RuleState(r, noise_scale(spec.signals[r.signal].kind)) for r in spec.rules]
        self.lying = spec.position not in UPRIGHT_POSITIONS
        self.reset()

    # --- public API ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new set (keeps the spec)."""
        self.bank.reset()
        for r in self.rules:
            r.reset()
        rep = self.spec.rep
        learned = {side: c.personal for side, c in getattr(self, "counters", {}).items()}  # kept across sets
        self.counters: dict[str, RepCounter] = {}
        if rep is not None:
            sides = SIDES if (self.spec.side == "auto" and self.bank.sided[rep.signal]) else ("all",)
            cal = rep.calibrate
            lenient = None if cal is None else (rep.rest if cal.rest is None else cal.rest,
                                                rep.target if cal.target is None else cal.target)
            for side in sides:
                self.counters[side] = RepCounter(rep.rest, rep.target, rep.hysteresis, rep.min_range,
                                                 rep.min_duration_s, rep.max_duration_s,
                                                 settle_fraction=REST_SETTLE_FRACTION,
                                                 settle_max_s=REST_SETTLE_MAX_S, lenient=lenient,
                                                 calibration_reps=cal.reps if cal else 2,
                                                 personal=learned.get(side))
        self._waiting_faults: dict[tuple[str, float], list] = {}  # faults of movements waiting for calibration
        hold = self.spec.hold
        self.hold_timer = HoldTimer(hold.dropout_s, hold.min_hold_s, occluded_s=hold.occluded_s) if hold else None
        self.second_opinion = SecondOpinion() if self.counters and self.spec.kind in ("reps", "rate") else None
        self._seen_frames = self._measured_frames = 0  # frames with the person; of those, the rep signal measured
        self.reps: list[RepCompleted] = []
        self.holds: list[HoldCompleted] = []
        self.not_counted: list[dict] = []  # movements that left rest but did not count, and why (tuning view)
        self.state, self.message = "", ""
        self._candidate: tuple[str, str] | None = None
        self._candidate_since = 0.0
        self._side: str | None = self._fixed_side()
        self._lead: str | None = None  # counter whose movement is in progress (auto side)
        self._rep_side: str | None = None
        self._t = 0.0
        self._last_progress = -math.inf
        self._target_since: float | None = None
        self._series: dict[str, list] = {"t": [], **{n: [] for n in self.spec.signals}}
        self._next_sample = 0.0
        self._warned: dict[str, tuple[int, ...]] = {}  # rule -> its joints, this repetition / hold
        self._last_warning: str | None = None
        self._motion = {s: RecentRange(MOTION_WINDOW_S) for s in SIDES}
        self._settle = {(c.signal, side): RecentRange(STILL_WINDOW_S) for c in (self.spec.hold.conditions
                        if self.spec.hold else ()) for side in (*SIDES, None)}
        self._held_since: float | None = None  # first frame of the current run of held frames
        self._hold_side: str | None = None  # the side the hold was last fully seen on
        self._posture = None  # world landmarks of the last fully measured held frame
        self._geo_view = "unknown"

    def update(self, pose: Pose) -> list[Event]:
        t = pose.timestamp
        self._t = t
        geo = BodyGeometry(pose)
        self._geo = geo
        self.bank.update(geo, t)
        if self.second_opinion is not None:
            self.second_opinion.add(pose)
            if geo.present:
                self._seen_frames += 1
                self._measured_frames += any(self.bank.trust[self.spec.rep.signal].values())
        if self.spec.rep is not None and self.bank.sided[self.spec.rep.signal]:
            for side in SIDES:
                self._motion[side].add(t, self.bank.values[self.spec.rep.signal].get(side, math.nan))
        events: list[Event] = []
        self._choose_side(geo)
        self._geo_view = geo.view if geo.present else "unknown"
        state, message = self._assess(geo)
        self._set_state(t, state, message, events)
        active = self.state in ("active", "resting")
        if self.counters:
            self._update_reps(t, active, events)
        if self.hold_timer is not None:
            self._update_hold(t, active, events)
        if active and self.spec.kind != "hold":
            self._update_rules(t, self._rule_phase(), events)
        self._sample(t)
        return events

    def finish(self, t: float) -> list[Event]:
        events: list[Event] = []
        for side, counter in self.counters.items():  # a last repetition back at rest, still settling
            rep = counter.flush()
            if rep is not None:
                self._movement_ended(side, rep, events)
            for judged in counter.take_released():
                self._judged_after_calibration(side, judged, events)
        if self.second_opinion is not None:  # the periodic counter's count beside the spec's (second_opinion.py)
            given = self.second_opinion.decide(self.reps, self._measured_frames / max(self._seen_frames, 1))
            self.reps += given
            events += given
        if self.hold_timer is not None:
            hold = self.hold_timer.finish(t)
            if hold is not None:
                events.append(self._hold_completed(t, hold.start_s, hold.end_s))
        return events

    @property
    def followed_side(self) -> str | None:
        """The body side the analysis reads now: the held side during a hold, else the moving or nearer side."""
        if self.hold_timer is not None and self.hold_timer.holding and self._hold_side:
            return self._hold_side
        return self._rep_side or self._side

    def current_state(self) -> EngineState:
        """The analyzer's state after the last pose, as plain data (coaching builds the HUD from it)."""
        t = self._t
        hold_s = 0.0
        holding = False
        if self.hold_timer is not None:
            hold_s, holding = self.hold_timer.held_s(t), self.hold_timer.holding
        elif self._target_since is not None:
            hold_s, holding = t - self._target_since, True
        counter = self._lead_counter()
        return EngineState(
            exercise=self.exercise,
            state=self.state,
            message=self.message,
            reps=len(self.reps),
            hold_s=round(hold_s, 2),
            holding=holding,
            angles={n: _round(self.bank.value(n, self._side)) for n in self.spec.signals},
            side=self.followed_side,
            phase=counter.state if counter else ("hold" if holding else "rest"),
            rate_per_min=self.rate_per_min() if self.spec.kind == "rate" else None,
            last_warning=self._last_warning,
            warning_joints=dict(self._warned),
        )

    def series(self) -> Series:
        out = {k: list(v) for k, v in self._series.items()}
        band = {}
        if self.spec.rep:
            band[self.spec.rep.signal] = sorted([self.spec.rep.rest, self.spec.rep.target])
        if self.spec.hold:
            for c in self.spec.hold.conditions:
                band[c.signal] = [c.min, c.max]
        out["target_band"] = band
        return out

    def summary(self) -> dict:
        """Totals for the session report, with the periodic counter's second opinion on the count."""
        out = summarise(self.reps, self.holds, rate=self.spec.kind == "rate")
        calibration = self.calibration()
        if calibration is not None:
            out["calibration"] = calibration
        if self.not_counted:
            out["not_counted"] = self.not_counted[-50:]
        out["thresholds"] = self.thresholds()
        opinion = self.second_opinion.opinion if self.second_opinion is not None else None
        if opinion is not None:
            out["second_opinion"] = opinion.to_dict()
            notice = opinion.notice(self.spec.name)
            if notice:
                out["notice"] = notice
        return out

    def thresholds(self) -> dict[str, dict[str, float]]:
        """Every threshold the spec sets, per signal (for plots: the tuning view): the repetition's rest and
        target (and the person's own, once calibrated), the hold's bounds and the rules' bounds."""
        out: dict[str, dict[str, float]] = {}
        rep = self.spec.rep
        if rep is not None:
            lines = out.setdefault(rep.signal, {})
            lines["rest"], lines["target"] = rep.rest, rep.target
            cal = self.calibration()
            if cal and cal["calibrated"]:
                lines["personal rest"], lines["personal target"] = cal["rest"], cal["target"]
        for c in self.spec.hold.conditions if self.spec.hold else ():
            lines = out.setdefault(c.signal, {})
            for bound in ("min", "max"):
                if getattr(c, bound) is not None:
                    lines[f"hold {bound}"] = getattr(c, bound)
        for r in self.spec.rules:
            lines = out.setdefault(r.signal, {})
            for bound in ("min", "max"):
                if getattr(r, bound) is not None:
                    lines[f"{r.id} {bound}"] = getattr(r, bound)
        return out

    def calibration(self) -> dict | None:
        """The person's own range and the thresholds it set (``rep.calibrate``), from the side that moved most."""
        found = [c.calibration for c in self.counters.values() if c.personal is not None]
        if not found:
            return None
        out = max(found, key=lambda c: c["movements"])
        out["signal"] = self.spec.rep.signal
        return out

    def recognition(self) -> Recognition | None:
        return Recognition(self.exercise, 1.0, "given")

    def rate_per_min(self) -> float | None:
        ends = [r.end_s for r in self.reps[-8:]]
        if len(ends) < 2 or ends[-1] <= ends[0]:
            return None
        return round(60.0 * (len(ends) - 1) / (ends[-1] - ends[0]), 1)

    # --- side ---------------------------------------------------------------------------------------
    def _fixed_side(self) -> str | None:
        return self.spec.side if self.spec.side in SIDES else None

    def _choose_side(self, geo: BodyGeometry) -> None:
        """For ``auto``: the side of the movement in progress, else the side nearer the camera."""
        if self.spec.side in SIDES or not geo.present:
            return
        if self._lead in SIDES:
            self._side = self._lead
        elif self.spec.side == "both" and self.spec.rep is not None and self._lead is None:
            self._side = self._moving_side() or geo.near_side
        elif self._lead is None:
            self._side = geo.near_side

    def _moving_side(self) -> str | None:
        """The side that moved clearly more in the last seconds (the other is probably hidden and guessed)."""
        left, right = self._motion["left"].range(), self._motion["right"].range()
        if max(left, right) > 1.5 * min(left, right) and max(left, right) > 0:
            return "left" if left > right else "right"
        return None

    def _lead_counter(self) -> RepCounter | None:
        if not self.counters:
            return None
        if self._lead in self.counters:
            return self.counters[self._lead]
        return self.counters.get(self._side) or next(iter(self.counters.values()))

    def _rep_value(self, side: str) -> float:
        """The repetition signal for one counter: per side, or combined for both / alternating sides."""
        name = self.spec.rep.signal
        vals = self.bank.values[name]
        if not self.bank.sided[name]:
            return vals.get(None, math.nan)
        if side in SIDES:
            return vals.get(side, math.nan)
        if self.spec.side in SIDES:
            return vals.get(self.spec.side, math.nan)
        found = [vals[s] for s in SIDES if self.bank.trust[name].get(s) and math.isfinite(vals.get(s, math.nan))]
        if not found:
            return math.nan
        if self.spec.side == "alternating":  # the side further towards the target is the working one
            return max(found) if self.spec.rep.rising else min(found)
        # both: mean weighted by how much each side moved lately. A hidden side whose landmarks MediaPipe
        # guesses moves much less than the real one, so one badly tracked side does not dilute the signal.
        weights = {s: max(self._motion[s].range(), 1e-3) ** 2 for s in SIDES}
        pairs = [(vals[s], weights[s]) for s in SIDES if self.bank.trust[name].get(s) and math.isfinite(vals[s])]
        return sum(v * w for v, w in pairs) / sum(w for _, w in pairs)

    # --- state --------------------------------------------------------------------------------------
    def _key_signals(self) -> list[str]:
        if self.spec.rep:
            return [self.spec.rep.signal]
        return [c.signal for c in self.spec.hold.conditions]

    def _assess(self, geo: BodyGeometry) -> tuple[str, str]:
        self._ready = False  # in view, in position and facing the camera as needed (the counters may run)
        if not geo.present:
            return "out_of_view", "step into view"
        for name in self._key_signals():
            trust = self.bank.trust[name]
            if not any(trust.values()):
                spec = self.spec.signals[name]
                missing = [i for i in signal_landmarks(spec, self._side) if not geo.in_frame[i]]
                if missing:
                    return "out_of_view", "move so that your whole body is in view"
                return "out_of_view", "make sure the camera can see the moving limb"
        moving = any(c.in_movement for c in self.counters.values())
        check_position = not moving or self.spec.rep.keep_position
        if check_position and (self.hold_timer is None or not self.hold_timer.holding):
            want_lying = self.lying
            if geo.posture == "unknown":
                return "out_of_view", "step into view"
            # holds define their pose by their conditions (a stretch may lean far forward): only a clear change
            strict = not moving and self.spec.kind != "hold"
            if self._wrong_position(geo, want_lying, strict=strict):
                return "get_into_position", POSITION_MESSAGES[self.spec.position]
            view = self.spec.camera.view
            if (not moving and self.spec.camera.strict and view != "any"
                    and self.bank.views.view not in (*self.spec.camera.supported, "unknown")):
                return "adjust_camera", VIEW_MESSAGES[(view, want_lying)]
        self._ready = True
        if not moving and (self.hold_timer is None or not self.hold_timer.holding):
            if self.counters and all(c.state == "unknown" for c in self.counters.values()):
                return "get_into_position", f"get into the starting position: {self.spec.instructions[0]}"
            if self._set_done():
                return "resting", f"set complete: rest {self.spec.targets.rest_s:.0f} s"
        return "active", ""

    def _set_done(self) -> bool:
        """The set's target is reached (counting goes on if the person carries on)."""
        targets = self.spec.targets
        if self.spec.kind == "hold":
            full = sum(h.duration_s >= self.spec.hold_target_s for h in self.holds)
            return bool(targets.reps and full >= targets.reps)
        return bool(targets.reps and len(self.reps) >= targets.reps)

    @staticmethod
    def _wrong_position(geo: BodyGeometry, want_lying: bool, strict: bool) -> bool:
        """Posture check; during a movement only a clear change counts (a deep squat leans the trunk forward)."""
        if strict:
            return (geo.posture == "lying") != want_lying
        incline = geo.torso_incline
        return incline < 30 if want_lying else incline > 70

    def _set_state(self, t: float, state: str, message: str, events: list[Event]) -> None:
        if (state, message) == (self.state, self.message):
            self._candidate = None
            return
        if not self.state:  # first frame
            self.state, self.message = state, message
            events.append(StateChanged(t, state, message))
            return
        if self._candidate != (state, message):
            self._candidate, self._candidate_since = (state, message), t
        if t - self._candidate_since >= STATE_DEBOUNCE_S or state == "active":
            self.state, self.message = state, message
            self._candidate = None
            events.append(StateChanged(t, state, message))

    # --- repetitions --------------------------------------------------------------------------------
    def _update_reps(self, t: float, active: bool, events: list[Event]) -> None:
        for side, counter in self.counters.items():
            if counter.in_movement and self.state in ("get_into_position", "adjust_camera"):
                ended = counter.abandon()  # e.g. stood up in the middle of a push-up: not a repetition
                if ended is not None:  # ... but one already back at rest before standing up is
                    self._movement_ended(side, ended, events)
                if side == self._lead:
                    self._lead = None
                continue
            value = self._rep_value(side) if self._ready or counter.in_movement else math.nan
            was_moving = counter.in_movement
            rep = counter.update(t, value)
            if not was_moving and counter.in_movement and self._lead is None:
                self._start_movement(side)
            if rep is not None:
                self._movement_ended(side, rep, events)
            for judged in counter.take_released():
                self._judged_after_calibration(side, judged, events)
        counter = self._lead_counter()
        if counter is not None and counter.state in ("target", "returning") and self._lead is not None:
            if self._target_since is None:
                self._target_since = t
            hold_s = self.spec.rep.hold_s
            if hold_s > 0 and t - self._last_progress >= PROGRESS_STEP_S:
                self._last_progress = t
                events.append(HoldProgress(t, round(t - self._target_since, 2), hold_s))

    def _movement_ended(self, side: str, rep: Rep, events: list[Event]) -> None:
        was_lead = side == self._lead
        if was_lead:
            moving = [s for s, c in self.counters.items() if c.in_movement and s != side]
            self._lead = moving[0] if moving else None
            self._target_since = None
        duplicate = bool(self.reps) and rep.start_s < self.reps[-1].end_s  # same movement seen on both sides
        if (rep.counted and not duplicate) or (not rep.counted and was_lead):
            self._finish_rep(rep, side, events)

    def _judged_after_calibration(self, side: str, rep: Rep, events: list[Event]) -> None:
        """A movement that waited for the person's calibration, now judged against their own range."""
        faults = self._waiting_faults.pop((side, rep.start_s), [])
        if not rep.counted:
            self._not_counted(rep)
            spec = self.spec.rep
            if rep.reason == "target not reached" and rep.range >= 0.5 * abs(spec.target - spec.rest):
                events.append(FormWarning(rep.end_s, "partial_rep", "a little further next time", "info"))
            return
        if self.reps and rep.start_s < self.reps[-1].end_s:  # the same movement seen on both sides
            return
        self._finish_rep(rep, side, events, faults)

    def _not_counted(self, rep: Rep) -> None:
        counter = self._lead_counter()
        target = self.spec.rep.target if counter is None else counter.count_target * counter.sign
        short = (target - rep.extreme) if self.spec.rep.rising else (rep.extreme - target)
        self.not_counted.append({"start_s": round(rep.start_s, 2), "end_s": round(rep.end_s, 2),
                                 "reason": rep.reason, "reached": round(rep.extreme, 1), "target": round(target, 1),
                                 "short_by": round(max(short, 0.0), 1)})

    def _start_movement(self, side: str) -> None:
        self._lead = side
        self._rep_side = side if side in SIDES else self._alternating_side()
        for r in self.rules:
            r.new_record()
        self._warned.clear()

    def _alternating_side(self) -> str | None:
        if self.spec.side != "alternating":
            return self._side
        name = self.spec.rep.signal
        vals = {s: self.bank.values[name].get(s, math.nan) for s in SIDES}
        vals = {s: v for s, v in vals.items() if math.isfinite(v)}
        if not vals:
            return None
        pick = max if self.spec.rep.rising else min
        return pick(vals, key=vals.get)

    def _finish_rep(self, rep: Rep, side: str | None, events: list[Event], faults: list | None = None) -> None:
        spec = self.spec.rep
        counter_side = side
        side = side if side in SIDES else self._rep_side
        if faults is None:
            faults = [r.spec for r in self.rules if r.close() or r.faulted]
            for r in self.rules:
                if r.spec.check == "reach" and r.faulted and r.spec.when != "hold":
                    self._warn(rep.end_s, r, events)
        if rep.reason == PENDING:  # counted or not once the person's range is known (calibration)
            self._waiting_faults[(counter_side, rep.start_s)] = faults
            return
        if not rep.counted:
            self._not_counted(rep)
            if rep.reason == "target not reached" and rep.range >= 0.5 * abs(spec.target - spec.rest):
                events.append(FormWarning(rep.end_s, "partial_rep", "a little further next time", "info"))
            return
        held = 0.0
        if spec.hold_s > 0:
            band = spec.hold_band if spec.hold_band is not None else HOLD_BAND * rep.range
            start, end = rep.plateau(band)
            held = end - start
            if held >= 0.5:
                hold = HoldCompleted(rep.end_s, start, end, round(held, 2), spec.hold_s,
                                     tuple(r.id for r in faults if r.when in ("target", "hold")))
                self.holds.append(hold)
                events.append(hold)
        unit = "°" if self.spec.signals[spec.signal].kind == "angle" else ""
        score, parts = score_rep(rep, spec, faults, held, unit)
        event = RepCompleted(rep.end_s, len(self.reps) + 1, rep.start_s, rep.end_s, rep.range,
                             rep.duration_s, score, tuple(r.id for r in faults), parts, side)
        self.reps.append(event)
        events.append(event)

    # --- holds --------------------------------------------------------------------------------------
    def _hold_ok(self) -> bool | None:
        """The target pose is held: on the exercise side, or on either side when the side is free (a hidden
        side's guessed landmarks should not break a hold that the visible side shows). None: not measurable.

        While a hold runs, a frame where some conditions cannot be measured (a close-up with the legs out of
        frame) still counts as held when every condition that can be measured is met and the joints that are
        seen keep the posture of the last fully measured held frame (world coordinates, so a zoom or a camera
        cut does not matter): geometry that stays valid when a limb leaves the frame."""
        holding = self.hold_timer.holding
        first = self._hold_side or self._side
        sides = [self._side] if self.spec.side in SIDES else [first, OTHER.get(first, "right")]
        results = [self._conditions_ok(side) for side in sides]
        if True in results:
            side = sides[results.index(True)]
            self._side = self._hold_side = side
            self._posture = self._geo.pose.world.copy()
            ok: bool | None = True
        elif False in results:
            ok = False
        elif holding:
            ok = self._partly_held(sides[0])
        else:
            ok = None
        if ok:
            for r in self.rules:
                if r.spec.severity == "error" and r.spec.check == "keep" and r.broken:
                    return False
        return ok

    def _conditions_ok(self, side: str | None) -> bool | None:
        """Every hold condition met on this frame's measurements; None when one was not measured on this
        frame (a value kept from earlier frames does not extend a hold past the last frame it was seen)."""
        for c in self.spec.hold.conditions:
            v = self.bank.value(c.signal, side)
            if not math.isfinite(v) or not self.bank.trust[c.signal].get(side if self.bank.sided[c.signal] else None):
                return None
            if not in_range(v, c.min, c.max):
                return False
        return True

    def _partly_held(self, side: str | None) -> bool | None:
        """A hold in progress seen in part: some conditions are not measurable on this frame. True when every
        measurable condition is met and the seen joints are where they were on the last fully measured held
        frame (median within ``POSTURE_TOLERANCE_M``); False when a measured condition fails or the seen
        joints moved away; None when too little is seen to tell."""
        measured = 0
        for c in self.spec.hold.conditions:
            key = side if self.bank.sided[c.signal] else None
            v = self.bank.value(c.signal, side)
            if math.isfinite(v) and self.bank.trust[c.signal].get(key):
                if not in_range(v, c.min, c.max):
                    return False
                measured += 1
        if measured == 0 or self._posture is None or not self._geo.present:
            return None
        seen = self._geo.in_frame & (self._geo.visibility >= 0.5)
        seen[:11] = False  # the face says nothing about the posture
        if seen.sum() < 4:
            return None
        moved = np.linalg.norm(self._geo.pose.world[seen] - self._posture[seen], axis=1)
        return bool(np.median(moved) <= POSTURE_TOLERANCE_M)

    def _update_hold(self, t: float, active: bool, events: list[Event]) -> None:
        timer = self.hold_timer
        if self.spec.kind != "hold":
            return
        was = timer.holding
        if active and not was:  # keep track of broken form between holds too (no warnings, no record)
            side = self._side
            for r in self.rules:
                value, used = self._rule_value(r, side)
                r.update(t, value, self._seen(r, used))
        # not measurable (out of view) is not a break; a change of camera view is not one either: the hold
        # conditions are world-space and view-independent, so the pose itself says whether it is held
        if active:
            ok = self._hold_ok()
        elif self.state == "out_of_view":  # a hold in progress may still be seen in part (a close-up)
            ok = self._hold_ok() if timer.holding and self._geo.present else None
        else:
            ok = False
        self._track_settling(t, ok)
        start_at = None
        if ok and not was:  # a hold starts once the person has settled into the position, not while moving in
            if not self._settled():
                ok = None
            else:
                start_at = max(self._held_since, t - STILL_WINDOW_S)
        hold = timer.update(t, ok, present=self._geo.present, start_at=start_at)
        if not was and timer.holding:
            for r in self.rules:  # a fault of the hold must happen during it: time out of range before
                r.new_record()     # the hold began (getting into position) does not count towards it
                if r.spec.severity != "error":
                    r.pause()
            self._warned.clear()
        if timer.holding:
            self._update_rules(t, "hold", events)
            if t - self._last_progress >= PROGRESS_STEP_S:
                self._last_progress = t
                events.append(HoldProgress(t, round(timer.held_s(t), 2), self.spec.hold_target_s))
        if hold is not None:
            events.append(self._hold_completed(t, hold.start_s, hold.end_s))

    def _track_settling(self, t: float, ok: bool | None) -> None:
        if ok:
            if self._held_since is None:  # settling is judged on held frames only
                self._held_since = t
                for recent in self._settle.values():
                    recent.reset()
        elif ok is False:
            self._held_since = None
        for (name, side), recent in self._settle.items():
            key = side if self.bank.sided[name] else None
            if side == key:
                recent.add(t, self.bank.value(name, side) if self.bank.trust[name].get(key) else math.nan)

    def _settled(self) -> bool:
        """The hold's signals have been steady (on the hold's side) since at least ``STILL_WINDOW_S`` ago."""
        if self._held_since is None or self._t - self._held_since < STILL_WINDOW_S:
            return False
        for c in self.spec.hold.conditions:
            side = self._side if self.bank.sided[c.signal] else None
            if self._settle[(c.signal, side)].range() > STILL_BAND[self.spec.signals[c.signal].kind]:
                return False
        return True

    def _hold_completed(self, t: float, start: float, end: float) -> HoldCompleted:
        self._hold_side, self._posture = None, None
        faults = tuple(r.spec.id for r in self.rules if r.close() or r.faulted)
        for r in self.rules:
            r.new_record()
        hold = HoldCompleted(t, start, end, round(end - start, 2), self.spec.hold_target_s, faults)
        self.holds.append(hold)
        return hold

    # --- rules --------------------------------------------------------------------------------------
    def _rule_phase(self) -> str:
        counter = self._lead_counter()
        if counter is None or self._lead is None:
            return "rest"
        return "target" if counter.state in ("target", "returning") else "moving"

    def _update_rules(self, t: float, phase: str, events: list[Event]) -> None:
        side = self._rep_side or self._side
        for r in self.rules:
            when = r.spec.when
            applies = (when == "always" or when == phase or (when == "moving" and phase == "target")
                       or (when == "hold" and phase == "target"))
            if not applies or (r.spec.view != "any" and self._geo_view != r.spec.view):  # this view cannot show it
                r.pause()
                continue
            if not all(self._holds(c, side) for c in r.spec.during):
                continue  # not judged on this frame; a violation in progress carries on
            value, used = self._rule_value(r, side)
            if r.update(t, value, self._seen(r, used)):
                self._warn(t, r, events)

    def _rule_value(self, rule: RuleState, side: str | None) -> tuple[float, str | None]:
        """The rule's signal on this frame and the side it was read on; for ``both`` sides the better side's
        value, so a guessed hidden side alone does not raise a fault. NaN when not measured on this frame
        (a value kept from earlier frames is not judged)."""
        name = rule.spec.signal
        if self.spec.side != "both" or not self.bank.sided[name]:
            key = side if self.bank.sided[name] else None
            return (self.bank.value(name, side) if self.bank.trust[name].get(key) else math.nan), side
        best, used = math.nan, side
        for s in SIDES:
            v = self.bank.value(name, s)
            if math.isfinite(v) and self.bank.trust[name].get(s) and (math.isnan(best) or rule.better(v, best)):
                best, used = v, s
        return best, used

    def _seen(self, rule: RuleState, side: str | None) -> float:
        """The lowest visibility of the rule signal's joints (0 when one is outside the image)."""
        geo = getattr(self, "_geo", None)
        if geo is None or not geo.present:
            return 0.0
        idx = signal_landmarks(self.spec.signals[rule.spec.signal], side)
        if not idx or not bool(geo.in_frame[idx].all()):
            return 0.0
        return float(geo.visibility[idx].min())

    def _holds(self, c, side: str | None) -> bool:
        v = self.bank.value(c.signal, side)
        return math.isfinite(v) and in_range(v, c.min, c.max)

    def _warn(self, t: float, rule: RuleState, events: list[Event]) -> None:
        spec = self.spec.signals[rule.spec.signal]
        self._warned[rule.spec.id] = tuple(sorted(signal_landmarks(spec, self._rep_side or self._side)))
        self._last_warning = rule.spec.id
        events.append(FormWarning(t, rule.spec.id, rule.spec.message, rule.spec.severity, rule.confidence))

    # --- series -------------------------------------------------------------------------------------
    def _sample(self, t: float) -> None:
        if t < self._next_sample:
            return
        self._next_sample = t + SERIES_STEP_S
        self._series["t"].append(round(t, 3))
        side = self._rep_side or self._side
        for n in self.spec.signals:
            self._series[n].append(_round(self.bank.value(n, side)))


def _round(v: float) -> float | None:
    return round(v, 1) if math.isfinite(v) else None
