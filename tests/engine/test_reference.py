"""Judging repetitions against reference repetitions (formcheck.engine.reference), and the UI-PRMD evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.engine.reference import CHANNELS, FEATURES, SAMPLES, ReferenceModel, angle_channels, repetition_features
from formcheck.pose.landmarks import L

FPS = 30.0


def squat_world(depth_deg: float, lean_deg: float = 0.0, n: int = 60) -> np.ndarray:
    """World landmarks (T, 33, 3) of a squat seen from the front: knees bend by ``depth_deg`` at the bottom,
    the trunk leans sideways by ``lean_deg``."""
    phase = np.sin(np.linspace(0, np.pi, n))
    w = np.zeros((n, 33, 3))
    for i, s in enumerate(phase):
        knee = np.radians(depth_deg * s)
        lean = np.radians(lean_deg * s)
        for side, x in ((L.LEFT_HIP, 0.1), (L.RIGHT_HIP, -0.1)):
            w[i, side] = (x, 0, 0)
        for kn, an, x in ((L.LEFT_KNEE, L.LEFT_ANKLE, 0.1),
                          (L.RIGHT_KNEE, L.RIGHT_ANKLE, -0.1)):
            w[i, kn] = (x, 0.45 * np.cos(knee / 2), -0.45 * np.sin(knee / 2))
            w[i, an] = w[i, kn] + (0, 0.45 * np.cos(knee / 2), 0.45 * np.sin(knee / 2))
        top = np.array([np.sin(lean), -np.cos(lean), 0]) * 0.5
        w[i, L.LEFT_SHOULDER] = top + (0.18, 0, 0)
        w[i, L.RIGHT_SHOULDER] = top + (-0.18, 0, 0)
        w[i, L.LEFT_ELBOW] = w[i, L.LEFT_SHOULDER] + (0.05, 0.28, 0)
        w[i, L.RIGHT_ELBOW] = w[i, L.RIGHT_SHOULDER] + (-0.05, 0.28, 0)
        w[i, L.LEFT_WRIST] = w[i, L.LEFT_ELBOW] + (0, 0.25, -0.05)
        w[i, L.RIGHT_WRIST] = w[i, L.RIGHT_ELBOW] + (0, 0.25, -0.05)
    return w


def test_channels_measure_the_knee_and_the_lean():
    c = angle_channels(squat_world(depth_deg=90, lean_deg=15))
    assert c[0, 0] == pytest.approx(180, abs=1) and c[30, 0] == pytest.approx(90, abs=3)  # knee angle
    assert abs(c[30, 8]) == pytest.approx(15, abs=1)  # sideways trunk lean at the bottom
    f = repetition_features(squat_world(90), FPS)
    assert f.shape == (len(FEATURES) + SAMPLES * len(CHANNELS),) and np.isfinite(f).all()


def _refs(rng, n, depth, lean):
    return [repetition_features(squat_world(depth + rng.normal(0, 6), lean + rng.normal(0, 1.5),
                                            n=int(rng.integers(50, 70))), FPS) for _ in range(n)]


def test_correct_references_only_flag_shallow_or_leaning_squats():
    rng = np.random.default_rng(0)
    good = _refs(rng, 30, 95, 0)
    model = ReferenceModel().fit(good, groups=[i % 3 for i in range(30)])
    assert model.kind_ == "distance"
    assert not any(model.is_incorrect(x) for x in _refs(rng, 10, 95, 0)[:3])
    assert all(model.is_incorrect(x) for x in _refs(rng, 5, 40, 0))  # far too shallow
    assert all(model.is_incorrect(x) for x in _refs(rng, 5, 95, 20))  # leaning to one side


def test_correct_and_incorrect_references_give_a_discriminant():
    rng = np.random.default_rng(1)
    model = ReferenceModel().fit(_refs(rng, 20, 95, 0), _refs(rng, 20, 60, 8))
    assert model.kind_ == "discriminant"
    good, bad = _refs(rng, 20, 95, 0), _refs(rng, 20, 60, 8)
    accuracy = (sum(not model.is_incorrect(x) for x in good) + sum(model.is_incorrect(x) for x in bad)) / 40
    assert accuracy >= 0.9


def test_needs_enough_references():
    with pytest.raises(ValueError, match="three correct"):
        ReferenceModel().fit([np.zeros(len(FEATURES) + SAMPLES * len(CHANNELS))] * 2)


def test_ui_prmd_leg_raise_beats_chance_on_unseen_subjects(shared_data):
    """Real data: standing straight leg raise, each subject judged with references from the others."""
    from formcheck.evaluation.dataset_eval import evaluate_ui_prmd

    res = evaluate_ui_prmd(shared_data, movements=(6,))
    m = res["movements"]["m06"]
    assert m["n"] >= 100 and m["subjects"] >= 5
    assert m["balanced_accuracy"] > 0.65
