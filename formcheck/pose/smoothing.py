"""Landmark smoothing: a One Euro filter over consecutive poses."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from formcheck.pose.types import Pose


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
