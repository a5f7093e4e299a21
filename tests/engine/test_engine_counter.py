"""Repetition state machine and hold timer on synthetic signal traces."""

import math

import numpy as np
import pytest
from synthetic_poses import ramp, reps_trace, trace

from formcheck.engine.counter import RepCounter
from formcheck.engine.hold import HoldTimer


def count(counter: RepCounter, values, fps: float = 30.0):
    reps = [r for t, v in trace(values, fps) if (r := counter.update(t, v)) is not None]
    return [r for r in reps if r.counted], [r for r in reps if not r.counted]


def squat_counter(**kw) -> RepCounter:
    return RepCounter(rest=150, target=110, **kw)


@pytest.mark.parametrize("n", [1, 3, 10])
def test_counts_exact_number_of_reps(n):
    counted, missed = count(squat_counter(), reps_trace(175, 80, n))
    assert len(counted) == n and not missed


def test_rising_signal_counts_too():
    counted, _ = count(RepCounter(rest=120, target=150), reps_trace(100, 170, 4))
    assert len(counted) == 4
    assert all(r.extreme > 160 for r in counted)


def test_noise_around_a_threshold_does_not_double_count():
    rng = np.random.default_rng(0)
    values = reps_trace(175, 80, 5)
    # dwell at the target threshold and at the rest threshold with noise smaller than the hysteresis
    values = values[:60] + list(110 + rng.uniform(-3, 3, 90)) + list(150 + rng.uniform(-3.5, 0, 60)) + values[60:]
    counted, _ = count(squat_counter(hysteresis=4), values)
    assert len(counted) == 5


def test_noise_larger_than_hysteresis_is_what_hysteresis_is_for():
    rng = np.random.default_rng(1)
    values = [175.0] * 30 + list(150 + rng.uniform(-3, 3, 200))  # jitter around the rest threshold only
    counted, missed = count(squat_counter(hysteresis=4), values)
    assert not counted  # never reached the target


def test_shallow_movement_is_not_counted_and_says_why():
    counted, missed = count(squat_counter(), reps_trace(175, 125, 3))
    assert not counted
    assert [r.reason for r in missed] == ["target not reached"] * 3


def test_minimum_range_of_motion():
    # rests at 160 (just past the rest threshold): reaches the target, but covers less than min_range
    values = [160.0] * 30 + ramp(160, 105, 1.0) + ramp(105, 160, 1.0) + [160.0] * 10
    counted, missed = count(RepCounter(rest=150, target=110, min_range=60), values)
    assert not counted and missed[0].reason == "range of motion too small"


def test_minimum_duration_rejects_jerks():
    values = [175.0] * 30 + ramp(175, 90, 0.1) + ramp(90, 175, 0.1) + [175.0] * 30
    counted, missed = count(squat_counter(min_duration_s=0.5), values)
    assert not counted and missed[0].reason == "too quick"


def test_no_counting_until_rest_is_seen():
    # the stream starts at the bottom of a squat (getting into position): that half movement is not a rep
    values = [90.0] * 30 + ramp(90, 175, 1.0) + reps_trace(175, 80, 2)
    counter = squat_counter()
    assert counter.state == "unknown"
    counted, _ = count(counter, values)
    assert len(counted) == 2


def test_short_dropout_is_bridged_long_dropout_abandons_the_rep():
    values = reps_trace(175, 80, 1, rep_s=3.0)
    short = list(values)
    short[60:75] = [math.nan] * 15  # 0.5 s gap mid-repetition
    counted, _ = count(squat_counter(dropout_s=1.0), short)
    assert len(counted) == 1
    long = list(values)
    long[50:100] = [math.nan] * 50  # 1.7 s gap
    counted, missed = count(squat_counter(dropout_s=1.0), long)
    assert not counted and missed[0].reason == "tracking lost"


def test_rep_timing_and_plateau():
    values = [175.0] * 30 + ramp(175, 90, 1.0) + [90.0] * 90 + ramp(90, 175, 1.0) + [175.0] * 30
    counted, _ = count(squat_counter(max_duration_s=30), values)
    rep = counted[0]
    assert rep.start_s == pytest.approx(1.0, abs=0.1)
    assert rep.duration_s == pytest.approx(4.7, abs=0.2)  # ends when the signal is back past the rest threshold
    start, end = rep.plateau(band=5)
    assert end - start == pytest.approx(3.0, abs=0.2)


def feed_hold(timer: HoldTimer, flags, fps: float = 10.0):
    holds = [h for t, f in trace(flags, fps) if (h := timer.update(t, f)) is not None]
    last = timer.finish(len(flags) / fps)
    return holds + ([last] if last else [])


def test_hold_reports_start_end_duration():
    holds = feed_hold(HoldTimer(dropout_s=1.0, min_hold_s=1.0), [False] * 20 + [True] * 50 + [False] * 30)
    assert len(holds) == 1
    assert holds[0].start_s == pytest.approx(2.0) and holds[0].duration_s == pytest.approx(4.9)


def test_hold_tolerates_brief_breaks_and_dropouts():
    flags = [True] * 30 + [None] * 5 + [True] * 30 + [False] * 5 + [True] * 30 + [False] * 30
    holds = feed_hold(HoldTimer(dropout_s=1.0), flags)
    assert len(holds) == 1 and holds[0].duration_s == pytest.approx(9.9)


def test_hold_broken_and_resumed_gives_two_holds():
    flags = [True] * 30 + [False] * 20 + [True] * 40 + [False] * 20
    holds = feed_hold(HoldTimer(dropout_s=1.0), flags)
    assert [round(h.duration_s, 1) for h in holds] == [2.9, 3.9]


def test_short_holds_are_not_reported():
    assert feed_hold(HoldTimer(min_hold_s=2.0), [True] * 10 + [False] * 30) == []


def test_hold_still_open_at_the_end_is_closed():
    holds = feed_hold(HoldTimer(), [False] * 5 + [True] * 40)
    assert len(holds) == 1 and holds[0].end_s == pytest.approx(4.4)
