"""Repetition state machine with hysteresis, minimum range of motion and minimum duration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from formcheck.engine.calibration import PersonalRange

PENDING = "waiting for calibration"  # a movement short of the spec's target, judged once the person's range is known


@dataclass
class Rep:
    """One finished movement (counted or not). Values are in the signal's own unit."""

    start_s: float
    end_s: float
    baseline: float  # signal at rest before the movement
    extreme: float  # furthest value reached towards the target
    extreme_s: float
    counted: bool
    reason: str = ""  # why it was not counted ("too small", "too quick", ...)
    trace: list[tuple[float, float]] = field(default_factory=list)  # (t, value) during the movement

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def range(self) -> float:
        return abs(self.extreme - self.baseline)

    def plateau(self, band: float) -> tuple[float, float]:
        """(start, end) of the longest time the signal stayed within ``band`` of its extreme (a hold at the target)."""
        best = (self.extreme_s, self.extreme_s)
        start = None
        for t, v in self.trace:
            if abs(v - self.extreme) <= band:
                start = t if start is None else start
                if t - start > best[1] - best[0]:
                    best = (start, t)
            else:
                start = None
        return best


class RepCounter:
    """Counts movements of a signal from ``rest`` to ``target`` and back.

    States: ``unknown`` (rest not seen yet: the person is getting into position), ``rest``, ``moving``
    (left rest, target not reached), ``target`` (target reached), ``returning``. Leaving rest needs the signal
    ``hysteresis`` beyond ``rest``; reaching the target needs ``target``; a repetition ends back at ``rest``
    and counts when it reached the target, covered ``min_range`` and lasted ``min_duration_s``..``max_duration_s``.
    A tracking gap longer than ``dropout_s`` abandons the movement in progress.

    With ``settle_fraction`` a repetition ends only once the signal has stayed back at rest for that fraction of
    the movement's duration (state ``settling``); leaving rest again sooner continues the same movement (a
    tracking flip that dips to rest for a few frames is not the end of a repetition). Being a fraction of the
    movement's own duration, it holds at any tempo; ``settle_max_s`` bounds the wait (live feedback).

    With ``lenient`` bounds ``(rest, target)`` the counter calibrates to the person (:mod:`.calibration`): it
    follows movements between the lenient bounds, counts those that reach the spec's target at once, and
    keeps the others (and any after them, so the count stays in order) until the person's range is known;
    then they are judged against the personal target and handed out by :meth:`take_released`.
    """

    def __init__(
        self,
        rest: float,
        target: float,
        hysteresis: float = 4.0,
        min_range: float | None = None,
        min_duration_s: float = 0.4,
        max_duration_s: float = 20.0,
        settle_s: float = 0.0,
        dropout_s: float = 1.0,
        settle_fraction: float = 0.0,
        settle_max_s: float = math.inf,
        lenient: tuple[float, float] | None = None,
        calibration_reps: int = 2,
        personal: PersonalRange | None = None,
    ):
        self.sign = 1.0 if target > rest else -1.0
        self.rest, self.target = rest * self.sign, target * self.sign  # internally the target is "up"
        self.count_target = self.target  # a movement counts when it reaches this
        self.hysteresis = hysteresis
        self.min_range = 0.7 * abs(target - rest) if min_range is None else min_range
        self._range_share = self.min_range / abs(target - rest)
        self.personal = personal
        if lenient is not None and personal is None:
            self.personal = PersonalRange(self.rest, self.target, lenient[0] * self.sign, lenient[1] * self.sign,
                                          calibration_reps)
        if self.personal is not None:
            self._use_thresholds()
        self.min_duration_s, self.max_duration_s = min_duration_s, max_duration_s
        self.settle_s, self.dropout_s = settle_s, dropout_s
        self.settle_fraction, self.settle_max_s = settle_fraction, settle_max_s
        self.reset()

    def reset(self) -> None:
        self.state = "unknown"
        self._rest_since: float | None = None
        self._last_t = -math.inf
        self._baseline = math.inf
        self._start = 0.0
        self._extreme = -math.inf
        self._extreme_t = 0.0
        self._trace: list[tuple[float, float]] = []
        self._rest_exit_t: float | None = None
        self._settle: tuple[str, float, float] | None = None  # (state before, time and value back at rest)
        self._resumed: tuple[str, float, float] | None = None  # the last return to rest, left again too soon
        self._pending: list[Rep] = []  # movements waiting for the calibration
        self._released: list[Rep] = []  # ... judged since the last take_released()

    @property
    def at_rest(self) -> bool:
        return self.state == "rest"

    @property
    def in_movement(self) -> bool:
        return self.state in ("moving", "target", "returning", "settling")

    @property
    def progress(self) -> float:
        """0 at rest .. 1 at the target (for overlays)."""
        if not self._trace:
            return 0.0
        v = self._trace[-1][1]
        return max(0.0, min(1.0, (v - self.rest) / (self.target - self.rest)))

    def abandon(self) -> Rep | None:
        """Drop the movement in progress (the person left the position); rest must be seen again. A movement
        that had already come back to rest before (settling, or left rest again too soon) ended there: that
        movement is returned."""
        ended = self._settle or self._resumed
        rep = None
        if ended is not None and self._trace:
            self._settle = ended
            rep = self._back_at_rest(self._last_t)
        self._trace, self._settle, self._resumed = [], None, None
        self._baseline = math.inf
        self.state, self._rest_since = "unknown", None
        return rep

    def _finish(self, t: float, counted: bool, reason: str = "") -> Rep:
        rep = Rep(self._start, t, self._baseline * self.sign, self._extreme * self.sign, self._extreme_t,
                  counted, reason, [(tt, v * self.sign) for tt, v in self._trace])
        self._trace = []
        self._baseline = math.inf
        return rep

    def update(self, t: float, value: float) -> Rep | None:
        """Feed one sample (NaN when not measurable); returns a finished movement, if any."""
        if not math.isfinite(value):
            if self.state == "settling" and t - self._last_t > self.dropout_s:
                return self._back_at_rest(t)
            if self.in_movement and t - self._last_t > self.dropout_s:
                self.state = "unknown"
                self._rest_since = None
                return self._finish(self._last_t, False, "tracking lost")
            if self.state == "rest" and t - self._last_t > self.dropout_s:
                self.state, self._rest_since = "unknown", None
            return None
        self._last_t = t
        v = value * self.sign
        if self.state == "unknown":
            if v <= self.rest:
                self._rest_since = t if self._rest_since is None else self._rest_since
                if t - self._rest_since >= self.settle_s:
                    self.state = "rest"
                    self._baseline = v
                    self._rest_exit_t = t
            else:
                self._rest_since = None
            return None
        if self.state == "rest":
            self._baseline = min(self._baseline, v)
            if v <= min(self.rest, self._baseline + self.hysteresis):
                self._rest_exit_t = t  # the movement starts when the signal leaves its resting value
            elif v > self.rest + self.hysteresis:
                self.state = "moving"
                self._start = self._rest_exit_t if self._rest_exit_t is not None else t
                self._extreme, self._extreme_t = v, t
                self._trace = [(t, v)]
            return None
        if self.state == "settling":
            if v <= self.rest + self.hysteresis:
                return self._back_at_rest(t) if t - self._settle[1] >= self._settle_need() else None
            self.state = self._settle[0]  # left rest again: the same movement goes on
            self._resumed, self._settle = self._settle, None
        self._trace.append((t, v))
        if v > self._extreme:
            self._extreme, self._extreme_t = v, t
        if self.state == "moving" and v >= self.target:
            self.state = "target"
        elif self.state == "target" and v < self.target - self.hysteresis:
            self.state = "returning"
        elif self.state == "returning" and v >= self.target:
            self.state = "target"
        if v <= self.rest:
            self._settle = (self.state, t, v)
            if self._settle_need() > 0:
                self.state = "settling"
                return None
            return self._back_at_rest(t)
        return None

    def flush(self) -> Rep | None:
        """The stream ended: a movement that was back at rest and settling ends there. Movements still waiting
        for the calibration are judged on the range seen so far (:meth:`take_released`)."""
        rep = self._back_at_rest(self._last_t) if self.state == "settling" else None
        if self._pending and self.personal is not None:
            if not self.personal.ready and self.personal.extremes:
                self.personal.calibrate()
                self._use_thresholds()
            self._release()
        return rep

    def take_released(self) -> list[Rep]:
        """Movements that waited for the calibration and were judged since the last call, in order (counted or
        not: ``reason`` says why not)."""
        out, self._released = self._released, []
        return out

    @property
    def calibration(self) -> dict | None:
        """The person's calibration for the report (None without ``lenient`` bounds)."""
        return self.personal.report(self.sign) if self.personal is not None else None

    def _use_thresholds(self) -> None:
        """Lenient bounds until calibrated (a shallow movement is followed, not yet counted), then personal."""
        p = self.personal
        if p.ready:
            self.rest, self.target = p.rest, p.target
            self.count_target = p.target
        else:
            self.rest, self.target = p.lenient_rest, p.lenient_target
            self.count_target = p.strict_target

    def _judge(self, rep: Rep) -> None:
        """Range, reach and duration of a movement that reached the (lenient or personal) target."""
        extreme = rep.extreme * self.sign
        min_range = self._range_share * abs(self.count_target - self.rest) if self.personal else self.min_range
        if extreme < self.count_target:
            rep.reason = "target not reached"
        elif rep.range < min(min_range, self.min_range):
            rep.reason = "range of motion too small"
        elif rep.duration_s < self.min_duration_s:
            rep.reason = "too quick"
        elif rep.duration_s > self.max_duration_s:
            rep.reason = "too slow"
        else:
            rep.counted, rep.reason = True, ""

    def _release(self) -> None:
        for rep in self._pending:
            judged = replace(rep, counted=False, reason="")
            self._judge(judged)
            self._released.append(judged)
        self._pending = []

    def _settle_need(self) -> float:
        return min(self.settle_fraction * (self._settle[1] - self._start), self.settle_max_s)

    def _back_at_rest(self, t: float) -> Rep:
        """The movement ended when the signal came back to rest (``self._settle``)."""
        before, end_t, end_v = self._settle
        self._settle = self._resumed = None
        self._trace = [(tt, v) for tt, v in self._trace if tt <= end_t]
        if self._trace:
            self._extreme_t, self._extreme = max(self._trace, key=lambda p: p[1])
        reached = before in ("target", "returning")
        self.state = "rest"
        self._rest_exit_t = t
        rep = self._finish(end_t, False)
        self._baseline = end_v
        if not reached:
            rep.reason = "target not reached"
            return rep
        self._judge(rep)
        p = self.personal
        if p is None:
            return rep
        fits = self.min_duration_s <= rep.duration_s <= self.max_duration_s
        if fits and p.add(rep.baseline * self.sign, rep.extreme * self.sign):
            self._use_thresholds()  # calibrated now: this movement and the waiting ones are judged on it
            if self._pending:
                self._pending.append(rep)
                self._release()
                return replace(rep, counted=False, reason=PENDING)
            rep.counted, rep.reason = False, ""
            self._judge(rep)
        elif self._pending or (not p.ready and fits and not rep.counted and rep.reason == "target not reached"):
            self._pending.append(rep)
            return replace(rep, counted=False, reason=PENDING)
        return rep
