"""The MediaPipe Pose Landmarker wrapper (Tasks API style: options -> create -> ``detect_for_video``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from formcheck.pose.types import Pose

# Quieten TFLite / glog start-up chatter before mediapipe is imported anywhere.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


MODEL_VARIANTS = ("lite", "full", "heavy")


@dataclass
class PoseEstimatorOptions:
    """Options for :class:`PoseEstimator` (in the style of MediaPipe's Tasks options)."""

    model: str = "full"
    models_dir: Path | None = None
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # A second person is looked for every this many seconds (0 disables it). Looking for two people
    # on every frame costs about 9 ms per frame; this costs well under 1 ms per frame on average.
    people_check_interval_s: float = 2.0
    # Frames larger than this on their longer side are scaled down to it before the model sees them (0: as they
    # come). The model's own inputs are 224-256 px squares, so a 720p or 1080p frame only costs copying and
    # scaling time in MediaPipe; landmarks are normalised, so they mean the same at any size.
    max_input_side: int | None = None  # None: FORMCHECK_POSE_INPUT_SIDE
    num_threads: int | None = None
    extra: dict = field(default_factory=dict)


class PoseEstimator:
    """MediaPipe Pose Landmarker in VIDEO mode: frames in, :class:`Pose` out.

    >>> with PoseEstimator.create(PoseEstimatorOptions(model="lite")) as est:
    ...     pose = est.detect_for_video(frame_bgr, timestamp_s)
    """

    def __init__(self, options: PoseEstimatorOptions):
        from mediapipe.tasks.python import BaseOptions, vision

        from formcheck.pose.models import check_model

        if options.max_input_side is None:
            from formcheck.core.settings import Settings

            options = replace(options, max_input_side=Settings().pose_input_side)
        self.options = options
        path = check_model(options.model, options.models_dir)  # None: formcheck.pose.models.models_dir()
        self._vision = vision
        base = BaseOptions(model_asset_path=str(path))
        common = dict(
            min_pose_detection_confidence=options.min_detection_confidence,
            min_pose_presence_confidence=options.min_presence_confidence,
            min_tracking_confidence=options.min_tracking_confidence,
        )
        with _quiet_stderr():
            self._video = vision.PoseLandmarker.create_from_options(
                vision.PoseLandmarkerOptions(
                    base_options=base, running_mode=vision.RunningMode.VIDEO, num_poses=1, **common
                )
            )
            self._crowd = None
            if options.people_check_interval_s > 0:
                self._crowd = vision.PoseLandmarker.create_from_options(
                    vision.PoseLandmarkerOptions(
                        base_options=base, running_mode=vision.RunningMode.IMAGE, num_poses=2, **common
                    )
                )
        self._last_ms = -1
        self._next_crowd_check = 0.0
        self._people_seen = 1

    @classmethod
    def create(cls, options: PoseEstimatorOptions | None = None) -> PoseEstimator:
        return cls(options or PoseEstimatorOptions())

    @property
    def model(self) -> str:
        return self.options.model

    def copy(self) -> PoseEstimator:
        """A new estimator with the same options and no tracking state (for another part of a video)."""
        return PoseEstimator(self.options)

    def detect_for_video(self, image_bgr: np.ndarray, timestamp: float) -> Pose:
        """Estimate the pose in one BGR frame; timestamps (seconds) must increase."""
        import cv2
        import mediapipe as mp

        h, w = image_bgr.shape[:2]
        side = self.options.max_input_side
        if side and max(h, w) > side:  # scaled before the colour conversion, which then has less to do
            scale = side / max(h, w)
            image_bgr = cv2.resize(image_bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                                   interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        ms = max(int(round(timestamp * 1000)), self._last_ms + 1)
        self._last_ms = ms
        pose = Pose.from_mediapipe(self._video.detect_for_video(image, ms), timestamp, (w, h))
        if self._crowd is not None and pose.present and timestamp >= self._next_crowd_check:
            self._people_seen = max(1, len(self._crowd.detect(image).pose_landmarks))
            self._next_crowd_check = timestamp + self.options.people_check_interval_s
        if pose.present and self._people_seen > 1:
            pose = replace(pose, people=self._people_seen)
        return pose

    def close(self) -> None:
        for task in (self._video, self._crowd):
            if task is not None:
                task.close()
        self._video = self._crowd = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Native (C++) log lines of MediaPipe, absl and TFLite/LiteRT: informational and warnings (errors pass through).
NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d\d|(?:INFO|WARNING): \[\w+\.cc:\d+\]|INFO: Created TensorFlow Lite"
    rb"|WARNING: Read-only tensor|WARNING: Logging before InitGoogle|WARNING: All log messages before absl)"
)


def filter_native_logs() -> None:
    """For the rest of the process, drop MediaPipe's native info and warning lines (``inference_runner_litert.cc
    ... not aligned`` and the like) that its C++ code writes to file descriptor 2, so server and CLI logs carry only
    what matters; native errors still pass. Python's ``sys.stderr`` (logging, tracebacks, progress bars) moves to a
    copy of the real stderr and is not touched. Child processes started later inherit the filter.
    ``FORMCHECK_VERBOSE=1`` keeps every line."""
    import atexit
    import io
    import sys
    import threading

    if os.environ.get("FORMCHECK_VERBOSE") or getattr(filter_native_logs, "done", False):
        return
    filter_native_logs.done = True  # type: ignore[attr-defined]
    sys.stderr.flush()
    real = os.dup(2)
    sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(real), "wb"), encoding="utf-8", errors="replace",
                                  line_buffering=True)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe, os.fdopen(real, "wb", buffering=0) as out:
            for line in pipe:
                if not NATIVE_LOG_LINE.match(line):
                    out.write(line)

    thread = threading.Thread(target=pump, name="native-log-filter", daemon=True)
    thread.start()

    def drain() -> None:  # at exit: what is still in the pipe reaches the real stderr
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # closes this process's write end of the pipe
        os.close(devnull)
        thread.join(0.5)

    atexit.register(drain)


def silence_native_logs() -> None:
    """The CLI's quiet output: native info and warning lines are dropped (:func:`filter_native_logs`)."""
    filter_native_logs()


class _quiet_stderr:
    """Silence native (C++) log lines written to fd 2 while models load."""

    def __enter__(self):
        if os.environ.get("FORMCHECK_VERBOSE"):
            self._saved = None
            return self
        import sys

        sys.stderr.flush()
        self._saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)

