"""Derived evaluation cases: the transforms and their ground truth (fast, synthetic streams), and the engine on
derived cases of the committed real landmark streams (samples/landmarks/, ground truth from ground_truth.csv)."""

from pathlib import Path

import numpy as np
import pytest

from formcheck.core.events import HoldCompleted, RepCompleted
from formcheck.engine import create_analyzer
from formcheck.evaluation.clips import match_holds
from formcheck.evaluation.derived import (
    Truth,
    change_speed,
    derive_all,
    drop_frames,
    loop,
    loop_truth,
    mirror,
    plausible_speed,
    seam_gap,
    speed_truth,
)
from formcheck.io.recording import PoseStream
from formcheck.pose.landmarks import MIRROR

LANDMARKS = Path(__file__).resolve().parents[2] / "samples" / "landmarks"


def stream_of(x: np.ndarray, fps: float = 10.0, nobody: tuple[int, ...] = ()) -> PoseStream:
    """A stream whose every landmark sits at x[i] (per frame) horizontally; y grows with the landmark index."""
    n = len(x)
    lms = np.zeros((n, 33, 5), np.float32)
    lms[:, :, 0] = x[:, None]
    lms[:, :, 1] = np.linspace(0.1, 0.9, 33)[None, :]
    lms[:, :, 3:] = 1.0
    world = np.zeros((n, 33, 3), np.float32)
    world[:, :, 0] = x[:, None] - 0.5
    people = np.ones(n, np.int8)
    for i in nobody:
        lms[i], world[i], people[i] = np.nan, np.nan, 0
    return PoseStream(lms, world, np.arange(n) / fps, people, (640, 480), {})


def test_mirror_matches_pose_mirrored_and_is_its_own_inverse():
    s = stream_of(np.linspace(0.2, 0.4, 5))
    s.landmarks[:, 11, 0] = 0.3  # left shoulder somewhere else than the right one
    m = mirror(s)
    for pose, mirrored in zip(s, m, strict=True):
        np.testing.assert_allclose(mirrored.landmarks, pose.mirrored().landmarks)
        np.testing.assert_allclose(mirrored.world, pose.mirrored().world)
    assert m.landmarks[0, MIRROR[11], 0] == pytest.approx(0.7)  # the left shoulder is now the right one
    np.testing.assert_allclose(mirror(m).landmarks, s.landmarks)


def test_speed_resamples_at_the_same_frame_rate():
    s = stream_of(np.linspace(0.0, 1.0, 101))  # x = t / 10 over 10 s at 10 fps
    fast, slow = change_speed(s, 2.0), change_speed(s, 0.5)
    assert fast.fps == pytest.approx(10.0) and slow.fps == pytest.approx(10.0)
    assert fast.timestamps[-1] == pytest.approx(5.0) and slow.timestamps[-1] == pytest.approx(20.0)
    # output time t shows the source at t * factor: x = t * factor / 10 (interpolated between frames)
    np.testing.assert_allclose(fast.landmarks[:, 0, 0], fast.timestamps * 2.0 / 10, atol=1e-6)
    np.testing.assert_allclose(slow.landmarks[:, 0, 0], slow.timestamps * 0.5 / 10, atol=1e-6)


def test_speed_keeps_nobody_frames_and_never_blends_with_them():
    s = stream_of(np.linspace(0.0, 1.0, 21), nobody=(10,))
    slow = change_speed(s, 0.5)
    seen = slow.people > 0
    assert not seen.all() and np.isfinite(slow.landmarks[seen]).all()
    assert np.isnan(slow.landmarks[~seen]).all()


def test_speed_truth_scales_holds_and_their_tolerance_not_counts():
    truth = Truth(reps=3, reps_tolerance=0, holds=((2.0, 5.0),), hold_tolerance_s=1.0)
    fast = speed_truth(truth, 2.0)
    assert fast.reps == 3 and fast.reps_tolerance == 0
    assert fast.holds == ((1.0, 2.5),) and fast.hold_tolerance_s == 0.5
    assert speed_truth(truth, 0.5).holds == ((4.0, 10.0),)


def test_implausible_speeds_are_named():
    s = stream_of(np.linspace(0.0, 1.0, 101))  # 10 s seen
    hold = Truth(reps=1, reps_tolerance=0, holds=((2.5, 5.5),))
    assert "not a hold" in plausible_speed(hold, s, 2.0)  # 3 s would be 1.5 s
    assert plausible_speed(hold, s, 1.5) == ""
    assert "faster" in plausible_speed(Truth(reps=8, reps_tolerance=0), s, 2.0)  # 1.25 s -> 0.6 s per rep
    assert "slower" in plausible_speed(Truth(reps=1, reps_tolerance=0), stream_of(np.zeros(200), fps=10), 0.5)


def test_loop_repeats_the_seen_part_with_a_crossfade():
    x = np.concatenate([[0.5, 0.5], np.linspace(0.5, 0.6, 10), np.linspace(0.6, 0.5, 10), [0.5]])
    s = stream_of(x, nobody=(0, 1))
    assert seam_gap(s) == pytest.approx(0.0, abs=1e-6)
    looped = loop(s, times=3, crossfade_s=0.3)
    assert len(looped) == 3 * 21 + 2 * 3  # seen frames three times, two seams of 3 frames
    assert np.allclose(np.diff(looped.timestamps), 0.1) and (looped.people > 0).all()
    truth = loop_truth(Truth(reps=1, reps_tolerance=0, holds=((0.5, 1.0),)), s, looped)
    assert truth.reps == 3 and truth.reps_tolerance == 0
    starts = [h[0] for h in truth.holds]
    assert np.allclose(np.diff(starts), 2.4)  # each copy: 21 frames + a 3-frame seam at 10 fps


def test_no_loop_when_the_clip_ends_elsewhere():
    s = stream_of(np.linspace(0.2, 0.6, 30))
    s.landmarks[-10:, 15, 1] += 0.5  # a wrist ends far from where it started
    s.landmarks[-10:, 16, 1] += 0.5
    s.landmarks[-10:, 13, 1] += 0.5
    s.landmarks[-10:, 14, 1] += 0.5
    s.landmarks[-10:, 25:29, 1] += 0.5
    assert seam_gap(s) > 0.25
    cases = {c.name: c for c in derive_all(s, Truth(reps=1, reps_tolerance=0))}
    assert cases["looped x3"].stream is None and "starting posture" in cases["looped x3"].note


def test_dropout_replaces_a_tenth_in_short_bursts_deterministically():
    s = stream_of(np.linspace(0.0, 1.0, 300), fps=30)
    d = drop_frames(s, 0.1, seed=7)
    gone = d.people == 0
    assert gone.sum() == 30 and np.isnan(d.landmarks[gone]).all()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], gone.astype(int), [0]])))
    lengths = edges[1::2] - edges[::2]
    assert len(lengths) > 1 and lengths.max() <= round(0.3 * 30)
    assert (drop_frames(s, 0.1, seed=7).people == d.people).all()
    assert not (drop_frames(s, 0.1, seed=8).people == d.people).all()


def _hold(start: float, end: float, duration: float) -> HoldCompleted:
    return HoldCompleted(end, start, end, duration, 0.0)


def test_adjacent_expected_holds_may_be_read_as_one():
    expected = [(13.0, 19.0), (19.5, 31.0), (31.5, 47.5)]
    one = [_hold(12.5, 47.6, 35.1)]
    assert match_holds(expected, one, 2.0) == 3
    three = [_hold(s, e, e - s) for s, e in expected]
    assert match_holds(expected, three, 2.0) == 3
    assert match_holds(expected, [_hold(13.0, 40.0, 27.0)], 2.0) == 0
    # holds 5 s apart are separate holds: one long hold does not match them
    assert match_holds([(0.0, 5.0), (10.0, 15.0)], [_hold(0, 15, 15)], 2.0) == 0


# --- derived cases of real landmark streams through the engine --------------------------------------------
SAMPLES = [  # name, exercise, ground truth (ground_truth.csv of ../shared/data/videos)
    ("legraise_supine", "straight_leg_raise", Truth(1, 0, ((2.5, 5.5),), 1.0)),
    ("keraal_hide_face_correct", "keraal_hide_face", Truth(1, 0)),
    ("keraal_hide_face_both_arms_low", "keraal_hide_face", Truth(1, 0)),
    ("squat_oblique", "squat", Truth(6, 0)),
    ("plank_views", "plank", Truth(None, None, ((13.0, 19.0), (19.5, 31.0), (31.5, 47.5)), 2.0)),
]


def run(stream: PoseStream, exercise: str) -> tuple[int, list[dict]]:
    analyzer = create_analyzer(exercise)
    events = []
    for pose in stream:
        events += analyzer.update(pose)
    events += analyzer.finish(float(stream.timestamps[-1]))
    holds = [e for e in events if isinstance(e, HoldCompleted)]
    return sum(isinstance(e, RepCompleted) for e in events), holds


@pytest.mark.parametrize(("name", "exercise", "truth"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_derived_cases_of_real_streams(name, exercise, truth):
    stream = PoseStream.load(LANDMARKS / f"{name}.npz")
    cases = derive_all(stream, truth, seed=name)
    ran = 0
    for case in cases:
        if case.stream is None:
            assert case.note  # skipped with a reason
            continue
        ran += 1
        reps, holds = run(case.stream, exercise)
        t = case.truth
        if t.reps is not None:
            assert abs(reps - t.reps) <= t.reps_tolerance, f"{case.name}: {reps} repetitions, expected {t.reps}"
        assert match_holds(t.holds, holds, t.hold_tolerance_s) == len(t.holds), f"{case.name}: holds {holds}"
    assert ran >= 4  # mirrored, dropout and at least two speeds


# --- invariance as a property: the count does not depend on which way the person faces, nor on the tempo ---------
INVARIANCE = [("squat_oblique", "squat"), ("pushup_side", "pushup"), ("legraise_supine", "straight_leg_raise"),
              ("keraal_hide_face_correct", "keraal_hide_face")]


@pytest.mark.parametrize(("name", "exercise"), INVARIANCE, ids=[s[0] for s in INVARIANCE])
def test_mirror_image_and_tempo_give_the_same_count(name, exercise):
    from formcheck.evaluation.derived import change_speed, mirror

    stream = PoseStream.load(LANDMARKS / f"{name}.npz")
    reps, _ = run(stream, exercise)
    assert reps >= 1
    assert run(mirror(stream), exercise)[0] == reps, "the mirror image counts differently"
    for factor in (0.5, 0.75, 1.5, 2.0):
        assert run(change_speed(stream, factor), exercise)[0] == reps, f"{factor}x speed counts differently"
