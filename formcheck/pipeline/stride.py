"""Adaptive frame stride for offline analysis: the pose model sees every frame while the body moves and one frame
in ``max_stride`` while it is at rest or holding still; the skipped frames get poses interpolated between the
frames the model saw, so the engine still receives a pose at every frame time.

Live analysis never uses it (a camera delivers frames in real time; there is nothing to gain by skipping). It is off
by default (``FORMCHECK_MAX_STRIDE=1``): MediaPipe's video-mode tracking and landmark smoothing depend on the frames
it is given, so the landmarks of the frames it does see change a little, and on ``formcheck eval`` that flipped a
few borderline clips (docs/architecture.md)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from formcheck.pose.types import Pose

# the joints whose motion decides the stride: shoulders, elbows, wrists, hips, knees, ankles
_MOVING_JOINTS = np.array([11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])


@dataclass(frozen=True)
class StridePolicy:
    """How far apart the frames the model sees may be.

    The gap between two frames the model sees is as long as the body (its fastest key joint, measured over the
    last ``window_s`` seconds) moves at most ``max_gap_move`` body sizes in it, between 1 and ``max_stride``
    frames (``max_stride`` 1: every frame, the stride is off). Fast motion is seen at the full frame rate;
    rest and holds at one frame in ``max_stride``."""

    max_stride: int = 3
    max_gap_move: float = 0.015
    window_s: float = 0.25
    min_visibility: float = 0.5

    @property
    def enabled(self) -> bool:
        return self.max_stride > 1


def body_speed(a: Pose, b: Pose, min_visibility: float = 0.5) -> float:
    """The fastest key joint's speed from ``a`` to ``b`` in body sizes per second (inf when one has nobody)."""
    if not (a.present and b.present) or b.timestamp <= a.timestamp:
        return float("inf")
    seen = (a.visibility[_MOVING_JOINTS] >= min_visibility) & (b.visibility[_MOVING_JOINTS] >= min_visibility)
    if seen.sum() < 2:
        return float("inf")
    pa, pb = a.xy_pixels[_MOVING_JOINTS][seen], b.xy_pixels[_MOVING_JOINTS][seen]
    size = float(np.ptp(pb, axis=0).max())
    if not np.isfinite(size) or size < 1.0:
        return float("inf")
    return float(np.linalg.norm(pb - pa, axis=1).max() / size / (b.timestamp - a.timestamp))


class AdaptiveStride:
    """Decides, frame by frame, whether the model looks at the next frame.

    >>> stride = AdaptiveStride(StridePolicy())
    >>> if stride.wants_next():
    ...     stride.seen(estimator.detect_for_video(image, t))
    ... else:
    ...     stride.skipped()
    """

    def __init__(self, policy: StridePolicy, fps: float = 30.0):
        self.policy, self.fps = policy, fps if fps > 0 else 30.0
        self._history: deque[Pose] = deque()
        self._since = 0  # frames since the model last saw one
        self._stride = 1
        self.frames = self.detected = 0

    def wants_next(self) -> bool:
        """Should the model see the next frame?"""
        return self._since + 1 >= self._stride

    def skipped(self) -> None:
        self._since += 1
        self.frames += 1

    def seen(self, pose: Pose) -> None:
        """The model's pose of the frame just looked at: sets the stride until the next one."""
        self._since = 0
        self.frames += 1
        self.detected += 1
        p = self.policy
        history = self._history
        history.append(pose)
        while len(history) > 2 and history[1].timestamp <= pose.timestamp - p.window_s:
            history.popleft()
        speed = body_speed(history[0], pose, p.min_visibility) if len(history) > 1 else float("inf")
        gap = p.max_gap_move * self.fps / speed if speed > 0 else float(p.max_stride)  # frames
        self._stride = int(min(max(gap, 1.0), p.max_stride))


def interpolate(a: Pose, b: Pose, t: float) -> Pose:
    """The pose at time ``t`` between two poses the model saw (linear; the nearer one when either has nobody)."""
    if not (a.present and b.present):
        near = a if t - a.timestamp <= b.timestamp - t else b
        return replace(near, timestamp=t)
    w = (t - a.timestamp) / (b.timestamp - a.timestamp) if b.timestamp > a.timestamp else 0.0
    w = float(min(max(w, 0.0), 1.0))
    return replace(
        a if w < 0.5 else b,
        landmarks=((1 - w) * a.landmarks + w * b.landmarks).astype(np.float32),
        world=((1 - w) * a.world + w * b.world).astype(np.float32),
        timestamp=t,
    )
