"""Judge a repetition against reference repetitions: a check that works for any exercise without a spec.

A clinic records reference repetitions of an exercise (correct ones, and if it can, typical mistakes). Each
repetition becomes a fixed-length description of how its joint angles moved (range, extremes and spread of
each angle relative to the starting posture, and the duration), from 3-D world landmarks, with left and
right put in a canonical order (the more mobile side first) so that either side can be used.

- With correct references only, a repetition is judged by its distance to them (robust z-scores), and the
  threshold is the ``quantile`` of the references' own distances (each judged without its own group).
- With incorrect references too, a linear discriminant (diagonal, shrunk) between the two groups is used,
  with the threshold that best separates the references (balanced accuracy).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from formcheck.pose.landmarks import L

CHANNELS = ("knee", "other_knee", "hip", "other_hip", "elbow", "other_elbow", "shoulder", "other_shoulder",
            "trunk_side_lean", "trunk_forward_lean", "feet_below_hips", "hands_above_shoulders",
            "knee_spread", "shoulder_twist")
STATS = ("max", "min", "std", "mean_abs", "at_extreme")
ASYMMETRY = ("knees", "hips", "elbows", "shoulders")
FEATURES = tuple(f"{c}.{s}" for s in STATS for c in CHANNELS) + ("duration_s",) + tuple(
    f"asymmetry.{a}" for a in ASYMMETRY)
SAMPLES = 40  # time-normalised trajectory samples per channel, appended to the features
DESCRIPTION = FEATURES + tuple(f"{c}.shape_deviation" for c in CHANNELS)  # what the model judges


def _angle(w: np.ndarray, a: int, b: int, c: int) -> np.ndarray:
    v1, v2 = w[:, a] - w[:, b], w[:, c] - w[:, b]
    cos = (v1 * v2).sum(-1) / np.maximum(np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def angle_channels(world: np.ndarray) -> np.ndarray:
    """(T, 33, 3) world landmarks (metres, y down) -> (T, len(CHANNELS)) degrees / centimetres / ratios."""
    w = np.asarray(world, np.float64)
    hips, shoulders = w[:, [L.LEFT_HIP, L.RIGHT_HIP]].mean(1), w[:, [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].mean(1)
    trunk = shoulders - hips
    left = [_angle(w, L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), _angle(w, L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE),
            _angle(w, L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST),
            _angle(w, L.LEFT_ELBOW, L.LEFT_SHOULDER, L.LEFT_HIP)]
    right = [_angle(w, L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE),
             _angle(w, L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE),
             _angle(w, L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST),
             _angle(w, L.RIGHT_ELBOW, L.RIGHT_SHOULDER, L.RIGHT_HIP)]
    side_lean = np.degrees(np.arctan2(trunk[:, 0], -trunk[:, 1]))
    mobility = [np.nanmax(v) - np.nanmin(v) if np.isfinite(v).any() else 0.0 for v in (left[1], right[1], left[3],
                                                                                       right[3])]
    if mobility[0] + mobility[2] < mobility[1] + mobility[3]:  # the more mobile side first
        left, right = right, left
        side_lean = -side_lean
    forward_lean = np.degrees(np.arctan2(trunk[:, 2], -trunk[:, 1]))
    feet = (w[:, [L.LEFT_ANKLE, L.RIGHT_ANKLE], 1].mean(1) - hips[:, 1]) * 100
    hands = (shoulders[:, 1] - w[:, [L.LEFT_WRIST, L.RIGHT_WRIST], 1].mean(1)) * 100
    ankle_gap = np.maximum(np.linalg.norm(w[:, L.LEFT_ANKLE] - w[:, L.RIGHT_ANKLE], axis=1), 0.05)
    knee_spread = 50 * np.linalg.norm(w[:, L.LEFT_KNEE] - w[:, L.RIGHT_KNEE], axis=1) / ankle_gap
    line = w[:, L.LEFT_SHOULDER] - w[:, L.RIGHT_SHOULDER]
    twist = np.degrees(np.arctan2(line[:, 2], np.abs(line[:, 0]) + 1e-9))
    cols = [left[0], right[0], left[1], right[1], left[2], right[2], left[3], right[3], side_lean, forward_lean,
            feet, hands, knee_spread, twist]
    return np.stack(cols, axis=1)


def repetition_features(world: np.ndarray, fps: float) -> np.ndarray:
    """The fixed-length description of one repetition's world landmarks: ``FEATURES`` (per channel, the
    extremes, spread and mean deviation from the starting posture and the deviation at the moment the most
    mobile joint is furthest from its start, e.g. the trunk at the bottom of a squat; the duration; the mean
    left-right difference of the four joint angles), then each channel's time-normalised trajectory
    (``SAMPLES`` x channels, relative to the start), which the model compares with the correct references'."""
    c = angle_channels(world)
    with warnings.catch_warnings():  # a channel never seen stays NaN here and becomes 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        c = np.where(np.isfinite(c), c, np.nanmean(c, axis=0, keepdims=True))
    c = np.nan_to_num(c)
    rel = c - c[: max(1, min(3, len(c)))].mean(axis=0)
    joint = int(np.argmax(np.ptp(c[:, :8], axis=0)))  # the most mobile joint angle
    peak = int(np.argmax(np.abs(rel[:, joint])))
    at_extreme = rel[max(0, peak - 3) : peak + 4].mean(0)
    stats = [rel.max(0), rel.min(0), c.std(0), np.abs(rel).mean(0), at_extreme]
    asymmetry = [np.abs(c[:, i] - c[:, i + 1]).mean() for i in (0, 2, 4, 6)]
    t, tt = np.linspace(0, 1, len(c)), np.linspace(0, 1, SAMPLES)
    trajectory = np.stack([np.interp(tt, t, rel[:, k]) for k in range(c.shape[1])], axis=1)
    return np.concatenate(stats + [np.array([len(c) / fps]), np.array(asymmetry), trajectory.ravel()])


@dataclass
class ReferenceModel:
    """Distance to correct references, or a discriminant between correct and incorrect references."""

    quantile: float = 0.95  # one-class threshold: this fraction of correct references pass
    shrinkage: float = 1.0  # added to the within-group variance of standardised features (discriminant)

    def fit(self, correct: Sequence[np.ndarray], incorrect: Sequence[np.ndarray] = (),
            groups: Sequence[object] | None = None) -> ReferenceModel:
        """``correct`` / ``incorrect``: :func:`repetition_features` of reference repetitions. ``groups`` (e.g.
        the person of each correct reference) lets the one-class threshold be calibrated on distances to the
        *other* groups' references, as a new person would be judged."""
        if len(correct) < 3:
            raise ValueError("at least three correct reference repetitions are needed")
        raw_good = np.asarray(correct, np.float64)
        self.template_ = self._trajectories(raw_good).mean(0)  # the correct references' average movement
        good = self._describe(raw_good)
        self.mean_, self.scale_ = good.mean(0), good.std(0) + 1e-6
        if len(incorrect):
            bad = self._describe(np.asarray(incorrect, np.float64))
            z_good, z_bad = self._z(good), self._z(bad)
            var = (z_good.var(0) * len(good) + z_bad.var(0) * len(bad)) / (len(good) + len(bad)) + self.shrinkage
            self.weights_ = (z_bad.mean(0) - z_good.mean(0)) / var
            s_good, s_bad = z_good @ self.weights_, z_bad @ self.weights_
            cands = np.sort(np.concatenate([s_good, s_bad]))
            accuracy = [(np.mean(s_bad > t) + np.mean(s_good <= t)) / 2 for t in cands]
            self.threshold_ = float(cands[int(np.argmax(accuracy))])
            self.kind_ = "discriminant"
            return self
        self.weights_ = None
        self.median_ = np.median(good, 0)
        self.spread_ = np.median(np.abs(good - self.median_), 0) * 1.4826 + 1e-3 * (np.abs(self.median_) + 1)
        if groups is not None and len(set(groups)) > 1:
            groups_arr = np.asarray(groups, object)
            dists = []
            for g in set(groups):
                others = ReferenceModel(self.quantile).fit(raw_good[groups_arr != g])
                dists += [others.score(x) for x in raw_good[groups_arr == g]]
        else:
            dists = [self.score(x) for x in raw_good]
        self.threshold_ = float(np.quantile(dists, self.quantile))
        self.kind_ = "distance"
        return self

    @staticmethod
    def _trajectories(x: np.ndarray) -> np.ndarray:
        return x[..., len(FEATURES):].reshape(*x.shape[:-1], SAMPLES, len(CHANNELS))

    def _describe(self, x: np.ndarray) -> np.ndarray:
        """Features plus each channel's RMS deviation from the correct references' average trajectory."""
        shape = np.sqrt(((self._trajectories(x) - self.template_) ** 2).mean(axis=-2))
        return np.concatenate([x[..., : len(FEATURES)], shape], axis=-1)

    def _z(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) - self.mean_) / self.scale_

    def score(self, features: np.ndarray) -> float:
        """Higher is less like a correct repetition."""
        d = self._describe(np.asarray(features, np.float64))
        if self.weights_ is not None:
            return float(self._z(d) @ self.weights_)
        z = np.abs(d - self.median_) / self.spread_
        return float(np.sort(z)[-3:].mean())  # the three largest deviations

    def is_incorrect(self, features: np.ndarray) -> bool:
        return self.score(features) > self.threshold_
