"""The class-agnostic counter on synthetic movements: a skeleton whose joints move with a known number of cycles."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.core.events import RepCompleted
from formcheck.engine.periodic import PeriodicAnalyzer, count_repetitions, estimate_period
from formcheck.pose.types import Pose

FPS = 30.0


def standing_skeleton() -> np.ndarray:
    """(33, 2) normalised image positions of a person standing, facing the camera."""
    p = np.full((33, 2), 0.5)
    p[0] = (0.5, 0.15)
    p[11], p[12] = (0.55, 0.25), (0.45, 0.25)
    p[13], p[14] = (0.57, 0.35), (0.43, 0.35)
    p[15], p[16] = (0.58, 0.45), (0.42, 0.45)
    p[23], p[24] = (0.53, 0.5), (0.47, 0.5)
    p[25], p[26] = (0.53, 0.65), (0.47, 0.65)
    p[27], p[28] = (0.53, 0.8), (0.47, 0.8)
    p[31], p[32] = (0.54, 0.82), (0.46, 0.82)
    return p


def movement(phase: np.ndarray, seed: int = 0, noise: float = 0.003) -> np.ndarray:
    """Landmarks (T, 33, 5) for a squat-like movement; ``phase`` in cycles (0 = standing, 0.5 = bottom).
    Rest is where the phase does not change."""
    rng = np.random.default_rng(seed)
    depth = 0.5 - 0.5 * np.cos(2 * np.pi * phase)  # 0 standing .. 1 bottom
    base = standing_skeleton()
    t = len(phase)
    lms = np.zeros((t, 33, 5))
    lms[:, :, :2] = base
    upper = [0, 11, 12, 13, 14, 15, 16, 23, 24]
    lms[:, upper, 1] += 0.15 * depth[:, None]  # hips and trunk go down
    lms[:, [25, 26], 0] += np.array([0.04, -0.04]) * depth[:, None]  # knees go out and forward
    lms[:, [15, 16], 1] -= 0.1 * depth[:, None]  # arms come up in front
    lms[:, :, :2] += rng.normal(0, noise, (t, 33, 2))
    lms[:, :, 3:] = 1.0
    return lms


def phase_for(reps: int, period_s: float, rest_before_s: float = 0.0, rest_after_s: float = 0.0,
              tempo_jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(rest_before_s * FPS))]
    for i in range(reps):
        n = int(period_s * (1 + rng.uniform(-tempo_jitter, tempo_jitter)) * FPS)
        parts.append(i + np.arange(n) / n)
    parts.append(np.full(int(rest_after_s * FPS) + 1, float(reps)))
    return np.concatenate(parts)


@pytest.mark.parametrize("reps,period_s", [(3, 3.0), (8, 2.0), (20, 0.6), (12, 1.2)])
def test_counts_regular_repetitions_exactly(reps, period_s):
    lms = movement(phase_for(reps, period_s, rest_before_s=1.0, rest_after_s=1.0))
    result = count_repetitions(lms, fps=FPS)
    assert result.count == reps
    assert result.period_s == pytest.approx(period_s, rel=0.15)


def test_rest_at_start_and_end_does_not_count():
    lms = movement(phase_for(6, 2.0, rest_before_s=8.0, rest_after_s=8.0), seed=1)
    result = count_repetitions(lms, fps=FPS)
    assert result.count == 6
    assert 8.0 <= result.peaks_s[0] <= 10.0


def test_varying_tempo():
    lms = movement(phase_for(10, 1.5, rest_before_s=1.0, rest_after_s=1.0, tempo_jitter=0.3, seed=2), seed=2)
    assert count_repetitions(lms, fps=FPS).count == 10


def test_noisier_tracking():
    lms = movement(phase_for(8, 2.5, rest_before_s=2.0, rest_after_s=2.0), seed=3, noise=0.01)
    assert count_repetitions(lms, fps=FPS).count == 8


def test_dropouts_are_bridged():
    lms = movement(phase_for(8, 2.0, rest_before_s=1.0, rest_after_s=1.0), seed=4)
    rng = np.random.default_rng(4)
    for start in rng.choice(len(lms) - 10, 12, replace=False):
        lms[start : start + 6] = np.nan  # person lost for 0.2 s, a dozen times
    assert count_repetitions(lms, fps=FPS).count == 8


def test_no_movement_counts_nothing():
    lms = movement(np.zeros(300), seed=5)
    result = count_repetitions(lms, fps=FPS)
    assert result.count == 0


def test_nobody_seen_counts_nothing():
    lms = np.full((200, 33, 5), np.nan)
    assert count_repetitions(lms, fps=FPS).count == 0


def test_period_estimate_prefers_one_repetition_to_two():
    t = np.arange(0, 20, 1 / FPS)
    x = np.stack([np.sin(2 * np.pi * t / 2.0), 0.3 * np.sin(2 * np.pi * t / 4.0)], axis=1)
    period, strength = estimate_period(x, FPS)
    assert period == pytest.approx(2.0, rel=0.1)
    assert strength > 0.5


def test_live_analyzer_matches_offline_count():
    lms = movement(phase_for(7, 2.0, rest_before_s=2.0, rest_after_s=2.0), seed=6)
    analyzer = PeriodicAnalyzer()
    events = []
    for i, row in enumerate(lms):
        events += analyzer.update(Pose(row.astype(np.float32), np.zeros((33, 3), np.float32), i / FPS, (640, 480)))
    live_before_finish = sum(isinstance(e, RepCompleted) for e in events)
    events += analyzer.finish(len(lms) / FPS)
    reps = [e for e in events if isinstance(e, RepCompleted)]
    assert len(reps) == 7
    assert live_before_finish >= 5  # most repetitions are reported while the movement goes on
    assert [r.index for r in reps] == list(range(1, 8))
    assert all(a.end_s <= b.end_s for a, b in zip(reps, reps[1:], strict=False))
