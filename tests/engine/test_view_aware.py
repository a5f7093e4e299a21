"""View-aware signals (``space: auto``): measured in the image in the spec's own view, from world landmarks in the
other views it supports, where the image foreshortens the movement."""

import numpy as np
from synthetic_poses import SIZE, reps_trace, standing

from formcheck.core.events import RepCompleted
from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.catalog import load_spec
from formcheck.pose.landmarks import L
from formcheck.pose.types import Pose

HALF_WIDTH_M = 0.18  # half the shoulder / hip width


def seen_from_the_front(side_pose: Pose) -> Pose:
    """The same body turned to face the camera: the side view's forward axis becomes depth (invisible in the
    image), the left and right sides sit apart across the image; world landmarks are the true 3-D body."""
    left = [i for i in range(33) if i % 2 == 1 and i > 10]  # MediaPipe: odd indices from 11 are the left side
    right = [i + 1 for i in left]
    side_world = side_pose.world.astype(np.float64)
    forward, up = side_world[:, 0], side_world[:, 1]
    lateral = np.zeros(33)
    lateral[left], lateral[right] = HALF_WIDTH_M, -HALF_WIDTH_M
    for i in left:  # both legs and arms in the same sagittal plane as the left side in the side view
        forward[i + 1], up[i + 1] = forward[i], up[i]
    world = np.stack([lateral, up, -forward], axis=1).astype(np.float32)
    lms = np.zeros((33, 5), np.float32)
    lms[:, 0] = 0.5 + world[:, 0] * 400 / SIZE[0]
    lms[:, 1] = 0.6 + world[:, 1] * 400 / SIZE[1]
    lms[:, 2] = world[:, 2]
    lms[:, 3:] = 0.99
    lms[L.NOSE, :2] = lms[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], :2].mean(axis=0) - [0, 0.06]
    return Pose(lms, world, side_pose.timestamp, SIZE)


def front_squats(n: int, fps: float = 30.0) -> list[Pose]:
    knee = reps_trace(175, 85, n, rep_s=2.0, pause_s=1.0, fps=fps, lead_s=1.5)
    return [seen_from_the_front(standing(i / fps, knee_deg=k)) for i, k in enumerate(knee)]


def count(spec, poses) -> int:
    analyzer = ExerciseAnalyzer(spec)
    events = [e for p in poses for e in analyzer.update(p)] + analyzer.finish(poses[-1].timestamp)
    return sum(isinstance(e, RepCompleted) for e in events)


def test_front_view_really_hides_the_knee_bend_in_the_image():
    from formcheck.engine.geometry import BodyGeometry

    deep = BodyGeometry(front_squats(1)[int(2.5 * 30)])
    assert deep.view == "front"
    assert deep.angle("hip", "knee", "ankle", "left", "image") > 170
    assert deep.angle("hip", "knee", "ankle", "left", "world") < 100


def test_squat_seen_from_the_front_counts_with_world_angles():
    spec = load_spec("squat")
    assert spec.signals["knee"].space == "auto" and "front" in spec.camera.supported
    assert count(spec, front_squats(3)) == 3


def test_the_same_squats_in_image_space_do_not_count():
    spec = load_spec("squat")
    image_only = spec.model_copy(update={"signals": {**spec.signals, "knee": spec.signals["knee"].model_copy(
        update={"space": "image"})}})
    assert count(image_only, front_squats(3)) == 0


def test_side_view_keeps_image_angles():
    spec = load_spec("squat")
    analyzer = ExerciseAnalyzer(spec)
    for k in (175, 150, 120):
        analyzer.update(standing(k / 100, knee_deg=k))
    assert analyzer.bank.space["knee"] == "image"
    assert abs(analyzer.bank.value("knee", "left") - 120) < 15
