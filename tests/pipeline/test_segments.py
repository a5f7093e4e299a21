"""A recorded video estimated in parts at once: every frame once and in order, with the timestamps of the whole
video, the warm-up frames seen but not kept; the frame loop uses parts only where no sink needs pixels."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from synthetic_poses import standing

from formcheck.engine import PoseOnlyAnalyzer, create_analyzer
from formcheck.io.recording import PoseRecorder
from formcheck.io.sources import VideoFileSource
from formcheck.pipeline.loop import run
from formcheck.pipeline.segments import Segment, plan_segments, segmented_poses
from formcheck.pipeline.sinks import CallbackSink
from formcheck.pose.types import Pose


class Recording:
    """Stands in for the pose model in the merge tests: a standing pose, and which frames each copy saw."""

    model = "recording"

    def __init__(self, log: dict | None = None, fail_at: float | None = None):
        self.log = log if log is not None else {}
        self.seen: list[float] = []
        self.log[id(self)] = self.seen
        self.fail_at = fail_at
        self.closed = False

    def copy(self) -> Recording:
        return Recording(self.log, self.fail_at)

    def detect_for_video(self, image, timestamp: float) -> Pose:
        assert image is not None and image.ndim == 3
        if self.fail_at is not None and timestamp >= self.fail_at:
            raise RuntimeError("the model failed")
        self.seen.append(timestamp)
        return standing(timestamp)

    def close(self) -> None:
        self.closed = True


def test_parts_cover_every_frame_once_with_a_warm_up():
    parts = plan_segments(900, 30.0, 3, warmup_s=1.0)
    assert parts == [Segment(0, 0, 320), Segment(290, 320, 610), Segment(580, 610, None)]
    for n, threads in ((900, 2), (901, 3), (5000, 7), (181, 2)):  # each estimator sees as many frames
        parts = plan_segments(n, 30.0, threads)
        seen = [(p.stop or n) - p.start for p in parts]
        assert len(parts) > 1 and max(seen) - min(seen) <= 1
        assert [p.keep for p in parts[1:]] == [p.stop for p in parts[:-1]] and parts[-1].stop is None
    assert plan_segments(60, 30.0, 4) == [Segment(0, 0, None)]  # 2 s: one part (the warm-up would cost more)
    assert len(plan_segments(200, 30.0, 4)) == 2  # 6.7 s: parts of at least 3 s
    assert plan_segments(0, 30.0, 2) == [Segment(0, 0, None)]  # unknown length: one part
    assert plan_segments(9000, 25.0, 1) == [Segment(0, 0, None)]


def test_parts_of_a_file_give_its_frames_and_timestamps_in_order(sample_squat):
    with VideoFileSource(sample_squat) as whole:
        expected = [(f.index, f.timestamp) for f in whole]
    log: dict = {}
    with VideoFileSource(sample_squat) as source:
        parts = plan_segments(source.frame_count, source.fps, 3, warmup_s=0.5)
        assert len(parts) == 3
        got = list(segmented_poses(source, Recording(log), parts))
    assert [(f.index, f.timestamp) for f, _ in got] == expected
    assert all(f.image is None and p.timestamp == f.timestamp for f, p in got)
    seen = sorted(log.values(), key=lambda ts: ts[0])
    assert len(seen) == 3
    warm = parts[1].keep - parts[1].start
    assert len(seen[1]) == parts[2].keep - parts[1].start and warm == 15  # the warm-up frames were estimated too
    assert seen[1][:warm] == [t for _, t in expected[parts[1].start:parts[1].keep]]


def test_a_part_that_seeks_gets_the_same_pixels(sample_squat):
    with VideoFileSource(sample_squat) as source:
        whole = {f.index: f.image for f in source if 250 <= f.index < 262}
        part = list(source.frames(250, 262))
        one_thread = list(source.frames(250, 262, threads=1))  # the parts' decoders
    assert [f.index for f in part] == [f.index for f in one_thread] == list(range(250, 262))
    assert all(np.array_equal(f.image, whole[f.index]) for f in part + one_thread)
    assert [f.timestamp for f in part] == [f.timestamp for f in one_thread]


def test_an_error_in_a_part_reaches_the_caller_and_every_part_stops(sample_squat):
    before = threading.active_count()
    with VideoFileSource(sample_squat) as source:
        parts = plan_segments(source.frame_count, source.fps, 2)
        with pytest.raises(RuntimeError, match="the model failed"):
            list(segmented_poses(source, Recording(fail_at=1.0), parts))
    assert threading.active_count() == before


def test_leaving_early_stops_the_parts(sample_squat):
    before = threading.active_count()
    with VideoFileSource(sample_squat) as source:
        poses = segmented_poses(source, Recording(), plan_segments(source.frame_count, source.fps, 2))
        first = [next(poses) for _ in range(5)]
        poses.close()
    assert [f.index for f, _ in first] == [0, 1, 2, 3, 4]
    assert threading.active_count() == before


def test_the_loop_uses_parts_only_when_no_sink_needs_pixels(sample_squat):
    images: list = []
    with VideoFileSource(sample_squat) as source:
        result = run(source, Recording(), PoseOnlyAnalyzer(), threads=2,
                     sinks=[CallbackSink(lambda r: images.append(r.frame.image))])
    assert result.frames == len(images) and all(image is None for image in images)  # in parts
    log: dict = {}
    images.clear()
    with VideoFileSource(sample_squat) as source:
        run(source, Recording(log), PoseOnlyAnalyzer(), threads=2,
            sinks=[CallbackSink(lambda r: images.append(r.frame.image), needs_frames=True)])
    assert len(log) == 1 and all(image is not None for image in images)  # one part: the sink draws


@pytest.mark.slow
def test_parts_count_what_one_part_counts_with_the_real_model(two_squats):
    """End to end: the real model (lite, the quickest) on the sample's two squats, in two parts and in one."""
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    out = {}
    for threads in (1, 2):
        recorder = PoseRecorder()
        with PoseEstimator.create(PoseEstimatorOptions(model="lite")) as estimator, \
                VideoFileSource(two_squats) as source:
            result = run(source, estimator, create_analyzer("squat"), sinks=[recorder], threads=threads)
        out[threads] = (result, recorder.stream())
    (one, one_poses), (two, two_poses) = out[1], out[2]
    assert two.frames == one.frames and two.summary()["reps"] == one.summary()["reps"] > 0
    np.testing.assert_array_equal(two_poses.timestamps, one_poses.timestamps)
    key = [11, 12, 23, 24, 25, 26, 27, 28]  # shoulders, hips, knees, ankles
    diff = np.abs(two_poses.landmarks[:, key, :2] - one_poses.landmarks[:, key, :2]).max(axis=(1, 2))
    assert np.nanmedian(diff) < 0.01  # a tracker started elsewhere: within 1% of the image
