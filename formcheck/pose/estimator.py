"""The MediaPipe Pose Landmarker wrapper (Tasks API style: options -> create -> ``detect_for_video``)."""

from __future__ import annotations

import os
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
    num_threads: int | None = None
    extra: dict = field(default_factory=dict)


class PoseEstimator:
    """MediaPipe Pose Landmarker in VIDEO mode: frames in, :class:`Pose` out.

    >>> with PoseEstimator.create(PoseEstimatorOptions(model="lite")) as est:
    ...     pose = est.detect_for_video(frame_bgr, timestamp_s)
    """

    def __init__(self, options: PoseEstimatorOptions):
        from mediapipe.tasks.python import BaseOptions, vision

        from formcheck.pose.models import MODELS_DIR, check_model

        self.options = options
        if options.models_dir is None:  # where the settings say (FORMCHECK_MODELS_DIR), else the package's
            from formcheck.core.settings import Settings

            options.models_dir = Settings().models_dir or MODELS_DIR
        path = check_model(options.model, options.models_dir)
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

    def detect_for_video(self, image_bgr: np.ndarray, timestamp: float) -> Pose:
        """Estimate the pose in one BGR frame; timestamps (seconds) must increase."""
        import cv2
        import mediapipe as mp

        h, w = image_bgr.shape[:2]
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


def silence_native_logs() -> None:
    """Send native (C++) log lines written to fd 2 to /dev/null for the rest of the process, while Python's
    ``sys.stderr`` (messages, progress bars) keeps the real stderr. ``FORMCHECK_VERBOSE=1`` keeps them all."""
    import io
    import sys

    if os.environ.get("FORMCHECK_VERBOSE") or getattr(silence_native_logs, "done", False):
        return
    sys.stderr.flush()
    keep = os.dup(2)
    sys.stderr = io.TextIOWrapper(os.fdopen(keep, "wb"), encoding="utf-8", errors="replace", line_buffering=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    silence_native_logs.done = True  # type: ignore[attr-defined]


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

