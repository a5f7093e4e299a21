"""Personal calibration (``rep.calibrate``): a person's own rest and end positions, within the spec's bounds."""

import pytest
from synthetic_poses import reps_trace, trace

from formcheck.engine.counter import PENDING, RepCounter
from formcheck.engine.spec import RepSpec


def run(counter: RepCounter, values, fps: float = 30.0):
    """Feed a trace; the movements as the analyzer sees them: each finished one, then any released by it."""
    out = []
    for t, v in trace(values, fps):
        rep = counter.update(t, v)
        if rep is not None:
            out.append(rep)
        out += counter.take_released()
    rep = counter.flush()
    out += ([rep] if rep else []) + counter.take_released()
    return out


def counted(reps):
    return [r for r in reps if r.counted]


def cat_cow(**kw) -> RepCounter:
    """Falling signal: rest 150, target 130; lenient bounds rest 142, target 140."""
    return RepCounter(rest=150, target=130, **kw)


def test_without_calibration_a_small_movement_does_not_count():
    assert counted(run(cat_cow(), reps_trace(158, 137, 3))) == []


def test_small_but_consistent_movements_count_once_calibrated_in_order():
    reps = run(cat_cow(lenient=(142, 140)), reps_trace(158, 137, 4))
    got = counted(reps)
    assert len(got) == 4
    assert [r.start_s for r in got] == sorted(r.start_s for r in got)
    assert reps[0].reason == PENDING and not reps[0].counted  # the first waited for the second


def test_a_movement_that_reaches_the_spec_target_counts_at_once():
    counter = cat_cow(lenient=(142, 140))
    first = next(r for t, v in trace(reps_trace(165, 110, 2)) if (r := counter.update(t, v)) is not None)
    assert first.counted and first.reason == ""


def test_personal_target_is_never_stricter_than_the_spec():
    counter = cat_cow(lenient=(142, 140))
    run(counter, reps_trace(170, 90, 2))  # a big range: the personal target would be far past 130
    assert counter.calibration["target"] == 130
    assert counted(run(counter, reps_trace(170, 128, 1)))  # still counts at the spec's target


def test_after_calibration_to_a_full_range_a_half_movement_does_not_count():
    counter = cat_cow(lenient=(142, 140))
    run(counter, reps_trace(165, 110, 2))
    assert counted(run(counter, reps_trace(165, 138, 1))) == []


def test_personal_range_is_bounded_by_the_lenient_bounds():
    counter = cat_cow(lenient=(142, 140))
    assert counted(run(counter, reps_trace(158, 143, 3))) == []  # never past the lenient target
    assert counter.calibration["calibrated"] is False


def test_a_person_who_never_gets_back_to_the_spec_rest():
    reps = run(cat_cow(lenient=(142, 140)), reps_trace(145, 125, 3))
    assert len(counted(reps)) == 3
    assert counted(run(cat_cow(), reps_trace(145, 125, 3))) == []


def test_a_single_small_movement_counts_at_the_end_of_the_set():
    reps = run(cat_cow(lenient=(142, 140)), reps_trace(158, 137, 1))
    assert len(counted(reps)) == 1


def test_report_gives_the_range_reached():
    counter = cat_cow(lenient=(142, 140))
    run(counter, reps_trace(158, 137, 3))
    report = counter.calibration
    assert report["calibrated"] and report["movements"] == 3
    lo, hi = report["end_reached"]
    assert 136 <= lo <= hi <= 139
    assert 137 < report["target"] <= 140 and report["spec_target"] == 130


@pytest.mark.parametrize("cal, message", [
    ({"target": 120}, "between rest"),
    ({"target": 155}, "between rest"),
    ({"rest": 128}, "between rest"),
    ({"rest": 144, "target": 141}, "hysteresis"),
])
def test_spec_bounds_are_checked(cal, message):
    with pytest.raises(ValueError, match=message):
        RepSpec(signal="head", rest=150, target=130, calibrate=cal)
