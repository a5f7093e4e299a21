"""Regression on recorded landmark streams of real clips (samples/landmarks/, made with our full model).

Expected values come from ../shared/data/videos/ground_truth.csv (counted by eye), not from earlier runs."""

from pathlib import Path

from formcheck.core.events import HoldCompleted, RepCompleted, StateChanged
from formcheck.engine import create_analyzer
from formcheck.io.recording import PoseStream

LANDMARKS = Path(__file__).resolve().parents[2] / "samples" / "landmarks"


def analyse(name: str, exercise: str):
    stream = PoseStream.load(LANDMARKS / f"{name}.npz")
    analyzer = create_analyzer(exercise)
    events = []
    for pose in stream:
        events += analyzer.update(pose)
    events += analyzer.finish(float(stream.timestamps[-1]))
    reps = [e for e in events if isinstance(e, RepCompleted)]
    holds = [e for e in events if isinstance(e, HoldCompleted)]
    return reps, holds, [e for e in events if isinstance(e, StateChanged)]


def test_straight_leg_raise_lying_one_rep_with_a_3s_hold():
    # physiobody/legraise.mp4: one leg raised straight and held 2.5-5.5 s (tolerance 1 s)
    reps, holds, _ = analyse("legraise_supine", "straight_leg_raise")
    assert len(reps) == 1 and not reps[0].faults
    assert len(holds) == 1
    assert abs(holds[0].duration_s - 3.0) <= 1.0 and holds[0].start_s < 5.5 and holds[0].end_s > 2.5


def test_squats_seen_at_an_angle_with_a_guessed_far_leg():
    # mrpose/squat2.mp4: 6 squats, front then oblique view; MediaPipe guesses the hidden knee nearly straight
    reps, _, _ = analyse("squat_oblique", "squat")
    assert len(reps) == 6
    assert not any("shallow" in r.faults for r in reps)  # they are deep squats


def test_pushups_after_a_break_standing_with_hips_sagging():
    # tayyab/pushup.mp4 from 22.5 s: end of a first set, standing and talking 25-29 s, then 5 push-ups 31-46 s
    # with the hips sagging 31-37 s
    reps, _, states = analyse("pushup_side", "pushup")
    assert not [r for r in reps if 25.5 < r.start_s < 29.5]  # nothing counted while standing
    assert any(s.state == "get_into_position" and 25 < s.t < 30 for s in states)
    second_set = [r for r in reps if r.start_s > 29.5]
    assert len(second_set) == 5
    sagging = [r for r in second_set if "hips_sagging" in r.faults]
    assert any(r.start_s <= 37 and r.end_s >= 31 for r in sagging)
    assert not [r for r in reps if r.end_s < 25 and r.faults]  # the first set is done with a straight body


def test_keraal_correct_and_faulty():
    reps, _, _ = analyse("keraal_hide_face_correct", "keraal_hide_face")
    assert len(reps) == 1 and not reps[0].faults
    reps, _, _ = analyse("keraal_hide_face_both_arms_low", "keraal_hide_face")
    assert len(reps) == 1 and set(reps[0].faults) == {"left_arm_low", "right_arm_low"}


def test_plank_holds_through_changing_camera_views():
    # mrpose/plank.mp4 (every 3rd frame): lying prone 0-7 s and a knees-down prep 7.5-12 s (not a plank), then a
    # plank held 13-19 s seen from the side, 19.5-31 s from the front, 31.5-47.5 s from the side (edited cuts).
    # The pose is held throughout, so the hold goes on through the view changes: one hold 13-47.5 s
    # (ground_truth.csv: "one continuous hold 13-47.5 s is also a fair reading"; tolerance 2 s)
    _, holds, _ = analyse("plank_views", "plank")
    assert len(holds) == 1
    assert abs(holds[0].start_s - 13.0) <= 2.0 and abs(holds[0].end_s - 47.5) <= 2.0
    assert abs(holds[0].duration_s - 34.5) <= 2.0
