"""The per-frame ``Pose`` type, the MediaPipe Pose Landmarker wrapper and landmark smoothing."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from formcheck.landmarks import MIRROR, NUM_LANDMARKS

# Quieten TFLite / glog start-up chatter before mediapipe is imported anywhere.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass(frozen=True, slots=True)
class Pose:
    """One frame's body pose.

    ``landmarks`` is (33, 5): normalised image x, y (0..1 of width / height), relative depth z,
    visibility and presence. ``world`` is (33, 3) in metres, origin between the hips.
    A frame with nobody in it has ``present == False`` and NaN landmarks.
    ``people`` is how many persons the estimator saw (0, 1, or 2 when a second person was detected).
    """

    landmarks: np.ndarray
    world: np.ndarray
    timestamp: float
    image_size: tuple[int, int]  # (width, height) in pixels
    people: int = 1

    @property
    def present(self) -> bool:
        return self.people > 0

    @classmethod
    def empty(cls, timestamp: float, image_size: tuple[int, int]) -> Pose:
        return cls(
            landmarks=np.full((NUM_LANDMARKS, 5), np.nan, np.float32),
            world=np.full((NUM_LANDMARKS, 3), np.nan, np.float32),
            timestamp=timestamp,
            image_size=image_size,
            people=0,
        )

    @classmethod
    def from_mediapipe(cls, result, timestamp: float, image_size: tuple[int, int]) -> Pose:
        """Adapter from a ``PoseLandmarkerResult`` (first person; ``people`` counts all)."""
        if not result.pose_landmarks:
            return cls.empty(timestamp, image_size)
        lms = np.array(
            [(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in result.pose_landmarks[0]], np.float32
        )
        world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks[0]], np.float32)
        return cls(lms, world, timestamp, image_size, people=len(result.pose_landmarks))

    @property
    def xy_pixels(self) -> np.ndarray:
        """(33, 2) landmark positions in pixels (aspect ratio preserved, so angles are true)."""
        w, h = self.image_size
        return self.landmarks[:, :2] * np.array([w, h], np.float32)

    @property
    def visibility(self) -> np.ndarray:
        return self.landmarks[:, 3]

    def mirrored(self) -> Pose:
        """The pose of the horizontally flipped image: x flipped, left and right swapped."""
        lms = self.landmarks[list(MIRROR)].copy()
        lms[:, 0] = 1.0 - lms[:, 0]
        world = self.world[list(MIRROR)].copy()
        world[:, 0] = -world[:, 0]
        return replace(self, landmarks=lms, world=world)


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

        from formcheck.modelbuild import MODELS_DIR, check_model

        self.options = options
        path = check_model(options.model, options.models_dir or MODELS_DIR)
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


class OneEuroFilter:
    """One Euro filter (Casiez et al. 2012) over an array of values: little lag when moving, little jitter at rest."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        if self._x is None or self._t is None or t <= self._t or np.isnan(self._x).any():
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t
        return self._x.copy()


class PoseSmoother:
    """Smooths landmark positions of consecutive poses; resets after a frame with nobody in it.

    Coordinates are normalised (image) or metres (world), so a speed of 1 unit/s is a brisk movement:
    at rest the cutoff stays near ``min_cutoff`` Hz, a fast limb raises it by ``beta`` Hz per unit/s.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 5.0):
        self._image = OneEuroFilter(min_cutoff, beta)
        self._world = OneEuroFilter(min_cutoff, beta)

    def __call__(self, pose: Pose) -> Pose:
        if not pose.present:
            self._image.reset()
            self._world.reset()
            return pose
        lms = pose.landmarks.copy()
        lms[:, :3] = self._image(pose.landmarks[:, :3].astype(np.float64), pose.timestamp)
        world = self._world(pose.world.astype(np.float64), pose.timestamp).astype(np.float32)
        return replace(pose, landmarks=lms.astype(np.float32), world=world)
