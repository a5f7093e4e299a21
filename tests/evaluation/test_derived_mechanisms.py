"""The engine mechanisms that the derived cases motivated: scale-free settling at rest, duration limits from the
spec's tempo, tracking gaps in holds (synthetic traces)."""

import math

import numpy as np
import pytest

from formcheck.engine import load_spec
from formcheck.engine.counter import RepCounter
from formcheck.engine.hold import HoldTimer


def feed(counter: RepCounter, t: np.ndarray, v: np.ndarray):
    reps = [r for tt, vv in zip(t, v, strict=True) if (r := counter.update(float(tt), float(vv))) is not None]
    if (last := counter.flush()) is not None:
        reps.append(last)
    return reps


def raise_with_flip(speed: float, fps: float = 20.0):
    """Hands from the lap (-1) up to 0.4 and back down over 8 s, with a tracking flip at 2.4-2.5 s that dips the
    signal to the lap for 0.1 s, under a tenth of the movement so far (as MediaPipe does when a turning trunk
    hides the arm), played ``speed`` times faster."""
    t_src = np.arange(0, 10, 1 / fps)
    v = np.interp(t_src, [0, 0.5, 1.0, 7.5, 8.0, 10], [-1, -1, 0.4, 0.4, -1, -1])
    v[(t_src >= 2.4) & (t_src < 2.5)] = -1.0
    return t_src / speed, v


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.0, 1.5, 2.0])
def test_a_brief_dip_to_rest_does_not_end_the_repetition_at_any_speed(speed):
    t, v = raise_with_flip(speed)
    reps = feed(RepCounter(rest=-0.7, target=-0.25, hysteresis=0.05, settle_fraction=0.1), t, v)
    counted = [r for r in reps if r.counted]
    assert len(counted) == 1 and not [r for r in reps if not r.counted]
    assert counted[0].end_s == pytest.approx(8.0 / speed, abs=0.2)


def test_without_settling_the_dip_splits_the_movement():
    t, v = raise_with_flip(1.0)
    reps = feed(RepCounter(rest=-0.7, target=-0.25, hysteresis=0.05), t, v)
    assert len(reps) == 2


def test_the_wait_at_rest_is_bounded():
    t, v = raise_with_flip(0.5)  # a 16 s movement: a tenth would be 1.6 s
    counter = RepCounter(rest=-0.7, target=-0.25, hysteresis=0.05, settle_fraction=0.1, settle_max_s=0.6)
    done = [(tt, r) for tt, vv in zip(t, v, strict=True) if (r := counter.update(float(tt), float(vv))) is not None]
    assert len(done) == 1
    reported_at, rep = done[0]
    assert rep.counted and 0.6 <= reported_at - rep.end_s <= 0.6 + 0.1


def test_back_to_back_repetitions_with_a_real_pause_still_count():
    t = np.arange(0, 12, 1 / 30)
    v = 150 - 40 * np.clip(np.sin(2 * np.pi * t / 3), 0, None)  # 1.5 s down-up, 1.5 s standing, x4
    reps = feed(RepCounter(rest=145, target=120, settle_fraction=0.1), t, v)
    assert sum(r.counted for r in reps) == 4


def test_a_movement_back_at_rest_before_standing_up_is_kept():
    counter = RepCounter(rest=-0.7, target=-0.25, hysteresis=0.05, settle_fraction=0.5)
    t, v = raise_with_flip(1.0)
    for tt, vv in zip(t[t < 8.2], v[t < 8.2], strict=True):
        assert counter.update(float(tt), float(vv)) is None or tt < 2.5
    assert counter.state == "settling"
    rep = counter.abandon()  # the person stood up before the end was confirmed
    assert rep is not None and rep.counted and counter.state == "unknown"


def test_duration_limits_follow_the_tempo():
    for ex in ("squat", "keraal_torso_rotation", "jumping_jack", "straight_leg_raise"):
        rep = load_spec(ex).rep
        assert rep.min_duration_s == pytest.approx(rep.tempo_s[0] / 2)
        assert rep.max_duration_s == pytest.approx(rep.tempo_s[1] * 3)


def test_hold_bridges_unmeasurable_gaps_longer_than_form_breaks():
    timer = HoldTimer(dropout_s=1.0, min_hold_s=1.0)
    events = []
    for i in range(0, 100):  # held 0-3 s, not measurable 3-4.8 s, held again 4.8-10 s
        t = i / 10
        ok = None if 3.0 < t < 4.8 else True
        events.append(timer.update(t, ok))
    assert not any(events) and timer.held_s(9.9) == pytest.approx(9.9)
    broken = HoldTimer(dropout_s=1.0, min_hold_s=1.0)
    ends = [broken.update(i / 10, False if 3.0 < i / 10 < 4.8 else True) for i in range(100)]
    assert sum(e is not None for e in ends) == 1  # a form break of 1.8 s ends the hold
    lost = HoldTimer(dropout_s=1.0, min_hold_s=1.0)
    ends = [lost.update(i / 10, None if 3.0 < i / 10 < 5.5 else True) for i in range(100)]
    assert sum(e is not None for e in ends) == 1 and not math.isnan(lost.held_s(9.9))  # 2.5 s unseen: too long
