"""``eval --sensitivity``: thresholds of a spec enumerated and moved one at a time, outcomes compared."""

from __future__ import annotations

from pathlib import Path

from formcheck.engine import load_spec
from formcheck.evaluation.sensitivity import format_sensitivity, moved, sensitivity, thresholds

LANDMARKS = Path(__file__).resolve().parents[2] / "samples" / "landmarks"


def test_every_threshold_of_a_spec_is_listed_and_moves():
    spec = load_spec("squat")
    names = dict(thresholds(spec))
    assert {"rep.rest", "rep.target", "rep.hysteresis", "rule.chest_down.max", "rule.chest_down.min_duration_s"} \
        <= set(names)
    up = moved(spec, names["rep.target"], 1.1)
    assert up.rep.target == spec.rep.target * 1.1 and up.rep.rest == spec.rep.rest
    # a target moved onto the rest position is not a valid spec: that move is skipped, not run
    assert moved(spec, names["rep.target"], spec.rep.rest / spec.rep.target) is None


def test_sensitivity_replays_the_bundled_sample(tmp_path):
    # a bundled landmark stream (6 squats, samples/README.md) under a ground truth written for this test
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "squat_oblique.npz").write_bytes((LANDMARKS / "squat_oblique.npz").read_bytes())
    (tmp_path / "ground_truth.csv").write_text(
        "clip,exercise,view,position,reps,reps_tolerance,holds_s,hold_tolerance_s,form,confidence,notes\n"
        "squat_oblique.mp4,squat,mixed,standing,6,0,,,,high,\n")
    s = sensitivity(tmp_path, cache=tmp_path / "cache")
    assert s.perturbations >= 10
    assert 0 <= s.changed <= s.perturbations
    assert set(s.by_threshold) == {f"squat: {name}" for name, _ in thresholds(load_spec("squat"))}
    assert all(v["moves"] + v["invalid"] == 2 for v in s.by_threshold.values())  # -10% and +10% of each
    # a move past a neighbouring bound makes the spec invalid: counted, not run (10% of a calibration bound of
    # 140° crosses the target's or the rest's bound)
    assert all(v["moves"] >= 1 for k, v in s.by_threshold.items() if ".calibrate." not in k)
    assert format_sensitivity(s).startswith(f"thresholds moved by ±10%: {s.perturbations} runs")
