"""The per-frame ``Pose`` type: one person's landmarks in image and world coordinates, or an explicit nobody."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from formcheck.pose.landmarks import MIRROR, NUM_LANDMARKS


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

