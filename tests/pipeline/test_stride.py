"""The adaptive frame stride: the model sees every frame while the body moves, fewer while it rests; the frame
loop and its sinks still get every frame, with interpolated poses in between."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_poses import standing

from formcheck.engine import PoseOnlyAnalyzer
from formcheck.io.sources import Frame, FrameSource
from formcheck.pipeline.loop import run
from formcheck.pipeline.sinks import CallbackSink
from formcheck.pipeline.stride import AdaptiveStride, StridePolicy, body_speed, interpolate
from formcheck.pose.types import Pose

FPS = 30.0


def knee_at(t: float) -> float:
    """Still for 2 s, one squat from 2 s to 4 s, still again."""
    if 2.0 <= t <= 4.0:
        return 178.0 - 80.0 * np.sin(np.pi * (t - 2.0) / 2.0)
    return 178.0


class ScriptedEstimator:
    """Stands in for the pose model in these loop tests: the pose of the script at the frame's time."""

    model = "scripted"

    def __init__(self, nobody_after: float = float("inf")):
        self.seen: list[float] = []
        self.nobody_after = nobody_after

    def detect_for_video(self, image, timestamp: float) -> Pose:
        self.seen.append(timestamp)
        if timestamp > self.nobody_after:
            return Pose.empty(timestamp, (1000, 1000))
        return standing(timestamp, knee_deg=knee_at(timestamp))


class Frames(FrameSource):
    def __init__(self, n: int, live: bool = False):
        self.n, self.live, self.fps, self.frame_count, self.name = n, live, FPS, n, "frames"
        self.image = np.zeros((8, 8, 3), np.uint8)

    def __iter__(self):
        for i in range(self.n):
            yield Frame(self.image, i / FPS, i)


def _run(n: int, policy: StridePolicy | None, live: bool = False, estimator=None):
    estimator = estimator or ScriptedEstimator()
    got: list[Pose] = []
    run(Frames(n, live), estimator, PoseOnlyAnalyzer(), sinks=[CallbackSink(lambda r: got.append(r.pose))],
        stride=policy)
    return estimator, got


def test_rest_is_sampled_and_motion_seen_at_full_rate():
    estimator, got = _run(180, StridePolicy(max_stride=3))
    seen = np.array(estimator.seen)
    assert [p.timestamp for p in got] == pytest.approx([i / FPS for i in range(180)])  # every frame reaches sinks
    still = seen[(seen > 0.5) & (seen < 1.9)]
    moving = seen[(seen > 2.3) & (seen < 3.7)]
    assert len(still) <= 0.4 * 1.4 * FPS  # about one frame in three at rest
    assert len(moving) >= 0.6 * 1.4 * FPS  # most frames while squatting
    assert seen[-1] == pytest.approx(179 / FPS)  # the last frame is always seen
    assert len(seen) < 0.8 * 180


def test_skipped_frames_get_interpolated_poses():
    estimator, got = _run(60, StridePolicy(max_stride=3))
    seen = set(np.round(estimator.seen, 6))
    skipped = [p for p in got if round(p.timestamp, 6) not in seen]
    assert skipped, "some frames are skipped at rest"
    reference = {round(p.timestamp, 6): standing(p.timestamp, knee_at(p.timestamp)) for p in skipped}
    for p in skipped:  # at rest the interpolated pose is the still pose
        assert np.allclose(p.landmarks, reference[round(p.timestamp, 6)].landmarks, atol=1e-4)


def test_stride_off_and_live_sources_see_every_frame():
    estimator, _ = _run(90, StridePolicy(max_stride=1))
    assert len(estimator.seen) == 90
    estimator, _ = _run(90, StridePolicy(max_stride=3), live=True)
    assert len(estimator.seen) == 90


def test_nobody_in_view_is_interpolated_to_nobody():
    estimator, got = _run(90, StridePolicy(max_stride=3), estimator=ScriptedEstimator(nobody_after=1.5))
    assert all(not p.present for p in got if p.timestamp > 1.5 + 3 / FPS)
    assert all(p.present for p in got if p.timestamp <= 1.5 - 3 / FPS)


def test_interpolate_is_linear_between_the_poses_the_model_saw():
    a, b = standing(0.0, knee_deg=178), standing(0.1, knee_deg=150)
    mid = interpolate(a, b, 0.05)
    assert mid.timestamp == 0.05
    assert np.allclose(mid.landmarks, (a.landmarks + b.landmarks) / 2, atol=1e-6)
    nobody = Pose.empty(0.1, a.image_size)
    assert interpolate(a, nobody, 0.02).present and not interpolate(a, nobody, 0.09).present


def test_speed_is_in_body_sizes_per_second():
    a, b = standing(0.0), standing(0.5)
    assert body_speed(a, b) == pytest.approx(0.0, abs=1e-6)
    moved = Pose(a.landmarks + np.array([0.05, 0, 0, 0, 0], np.float32), a.world, 0.5, a.image_size)
    size = np.ptp(a.xy_pixels[[11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]], axis=0).max()
    assert body_speed(a, moved) == pytest.approx(0.05 * 1000 / size / 0.5, rel=1e-3)
    assert body_speed(a, Pose.empty(0.5, a.image_size)) == float("inf")


def test_stride_is_one_until_motion_is_known():
    stride = AdaptiveStride(StridePolicy(max_stride=3), FPS)
    assert stride.wants_next()
    stride.seen(standing(0.0))
    assert stride.wants_next()  # one pose: speed unknown
