"""The pose estimator with the real model: frames larger than the model's input side are scaled down before the
model sees them, and the poses keep the frame's own size and landmarks (normalised, so the same at any size)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formcheck.io.sources import VideoFileSource
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

pytestmark = pytest.mark.slow


class _Widths:
    """Wraps the video-mode landmarker and notes the size of every image it is given."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []

    def detect_for_video(self, image, ms):
        self.sizes.append((image.width, image.height))
        return self.inner.detect_for_video(image, ms)

    def close(self):
        self.inner.close()


def test_large_frames_are_scaled_for_the_model_and_poses_keep_the_frame_size(sample_squat):
    with VideoFileSource(sample_squat) as source:  # 608x1080, the first 2 s
        frames = [f for f in source if f.index < 60]
    out = {}
    for side in (0, 640):
        with PoseEstimator.create(PoseEstimatorOptions(model="lite", max_input_side=side)) as estimator:
            estimator._video = seen = _Widths(estimator._video)
            poses = [estimator.detect_for_video(f.image, f.timestamp) for f in frames]
        out[side] = (poses, seen.sizes)
    (full, full_sizes), (small, small_sizes) = out[0], out[640]
    assert set(full_sizes) == {(608, 1080)} and set(small_sizes) == {(360, 640)}
    assert all(p.image_size == (608, 1080) and p.present for p in full + small)
    key = [11, 12, 23, 24, 25, 26, 27, 28]  # shoulders, hips, knees, ankles
    diff = np.array([np.abs(a.landmarks[key, :2] - b.landmarks[key, :2]).max() for a, b in zip(full, small,
                                                                                                strict=True)])
    assert np.median(diff) < 0.01  # within 1% of the frame


def test_frames_within_the_side_are_given_as_they_are(sample_squat):
    with VideoFileSource(sample_squat) as source:
        frame = next(iter(source))
    small = cv2.resize(frame.image, (304, 540), interpolation=cv2.INTER_AREA)
    with PoseEstimator.create(PoseEstimatorOptions(model="lite", max_input_side=640,
                                                   people_check_interval_s=0)) as estimator:
        estimator._video = seen = _Widths(estimator._video)
        pose = estimator.detect_for_video(small, 0.0)
    assert seen.sizes == [(304, 540)] and pose.image_size == (304, 540)


def test_the_side_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("FORMCHECK_POSE_INPUT_SIDE", "480")
    with PoseEstimator.create(PoseEstimatorOptions(model="lite", people_check_interval_s=0)) as estimator:
        assert estimator.options.max_input_side == 480
