"""``formcheck eval``: metric functions, ground-truth parsing, and a real run on the bundled sample clip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from formcheck.core.events import HoldCompleted
from formcheck.evaluation.clips import (
    ClipResult,
    EvalError,
    count_metrics,
    fault_metrics,
    match_holds,
    parse_holds,
    read_ground_truth,
    totals,
)

HEADER = "clip,exercise,view,position,reps,reps_tolerance,holds_s,hold_tolerance_s,form,confidence,notes\n"


def test_count_metrics():
    m = count_metrics([(10, 10), (10, 12), (4, 3), (5, 10)])
    assert m["exact"] == pytest.approx(0.25)
    assert m["obo"] == pytest.approx(0.5)
    assert m["mae"] == pytest.approx((0 + 0.2 + 0.25 + 1.0) / 4)
    assert count_metrics([])["mae"] is None


def test_fault_metrics():
    m = fault_metrics([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert m["fault_precision"] == pytest.approx(2 / 3)
    assert m["fault_recall"] == pytest.approx(2 / 3)
    assert fault_metrics([(False, False)])["fault_precision"] is None


def test_holds_match_by_overlap_and_duration():
    assert parse_holds("2.5-5.5; 13-19") == ((2.5, 5.5), (13.0, 19.0))
    found = [HoldCompleted(5.0, 2.0, 5.0, 3.0, 0.0), HoldCompleted(30.0, 12.0, 30.0, 18.0, 0.0)]
    assert match_holds([(2.5, 5.5), (13, 19)], found, tolerance=1.0) == 1  # the second is far too long
    assert match_holds([(40, 45)], found, tolerance=1.0) == 0
    with pytest.raises(EvalError, match="start-end"):
        parse_holds("12")


def test_totals_count_scored_clips_crashes_and_faults():
    results = [
        ClipResult("a.mp4", "squat", 5, 5, True, faulty=False),
        ClipResult("b.mp4", "squat", 4, 6, False, holds_expected=2, holds_within=1, faulty=True,
                   faults_found=["knees_in"]),
        ClipResult("c.mp4", "squat", None, 3, None),
        ClipResult("d.mp4", "squat", None, None, None, error="RuntimeError: boom", faulty=True),
    ]
    t = totals(results)
    assert t["clips"] == 4 and t["clips_scored"] == 2 and t["crashes"] == 1
    assert t["reps_within_tolerance"] == 0.5 and t["reps_exact"] == 0.5 and t["obo"] == 0.5
    assert t["mae"] == pytest.approx(0.25)
    assert t["holds_within_tolerance"] == 0.5
    assert t["fault_precision"] == 1.0 and t["fault_recall"] == 1.0  # the crashed clip is not judged


def test_ground_truth_errors_are_for_people(tmp_path):
    with pytest.raises(EvalError, match="ground_truth.csv"):
        read_ground_truth(tmp_path)
    (tmp_path / "ground_truth.csv").write_text("clip,exercise\nx.mp4,squat\n")
    with pytest.raises(EvalError, match="reps"):
        read_ground_truth(tmp_path)
    (tmp_path / "ground_truth.csv").write_text(HEADER + "x.mp4,squat,side,standing,three,0,,,,high,\n")
    with pytest.raises(EvalError, match="line 2"):
        read_ground_truth(tmp_path)


def test_ground_truth_rows(tmp_path):
    (tmp_path / "ground_truth.csv").write_text(
        HEADER
        + "a.mp4,squat,side,standing,4,0,,,knees cave in,high,\n"
        + "b.mp4,plank,side,prone,,,13.0-19.0;19.5-31.0,2.0,correct,medium,\n"
        + "c.gif,pushup,top-down,prone,,,,,,low,stress\n"
    )
    a, b, c = read_ground_truth(tmp_path / "ground_truth.csv")
    assert a.scored and a.reps == 4 and a.faulty is True
    assert not b.scored and b.holds == ((13.0, 19.0), (19.5, 31.0)) and b.hold_tolerance_s == 2.0 and b.faulty is False
    assert not c.scored and c.faulty is None


def _formcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True, timeout=900)


def test_eval_reports_missing_clip_as_crash_not_traceback(tmp_path):
    (tmp_path / "ground_truth.csv").write_text(HEADER + "missing.mp4,squat,side,standing,2,0,,,correct,high,\n")
    proc = _formcheck("eval", str(tmp_path), "--json", str(tmp_path / "r.json"), "--no-progress")
    assert proc.returncode == 1 and "could not be analysed" in proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["crashes"] == 1 and "not found" in data["results"][0]["error"]
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_eval_runs_the_real_model_on_the_sample(tmp_path, two_squats):
    """A tiny ground truth pointing at the bundled squat clip's two squats (2 repetitions, correct form)."""
    shutil.copy(two_squats, tmp_path / "squat_side.mp4")
    (tmp_path / "ground_truth.csv").write_text(
        HEADER + "squat_side.mp4,squat,side,standing,2,0,,,correct,high,barbell back squat\n")
    out, cache = tmp_path / "eval.json", tmp_path / "cache"
    proc = _formcheck("eval", str(tmp_path), "--json", str(out), "--cache", str(cache), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    for key in ("clips_scored", "reps_within_tolerance", "reps_exact", "obo", "mae", "holds_within_tolerance",
                "fault_precision", "fault_recall", "crashes"):
        assert key in data
    assert data["clips_scored"] == 1 and data["crashes"] == 0
    clip = data["results"][0]
    assert clip["expected"] == 2 and clip["got"] == 2 and clip["within"] is True
    assert "squat_side.mp4" in proc.stdout and "reps_within_tolerance" in proc.stdout
    assert (cache / "squat_side.npz").exists()  # the stream was cached for the next run


def test_landmark_level_evaluations_on_real_data(shared_data):
    """RepCount with the class-agnostic counter and KERAAL skeletons with the catalog's form rules."""
    from formcheck.evaluation.dataset_eval import evaluate_keraal, evaluate_repcount, format_datasets

    rep = evaluate_repcount(shared_data)
    assert set(rep["classes"]) == {"squat", "situp", "push_up", "front_raise", "jump_jack"}
    assert rep["overall"]["n"] >= 50
    assert rep["overall"]["obo"] > 0.5 and rep["overall"]["mae"] < 0.4
    keraal = evaluate_keraal(shared_data, videos=False)
    skel = keraal["skeletons"]
    assert skel["n"] >= 50 and skel["correct_vs_fault"] > 0.8 and skel["side_accuracy"] > 0.8
    text = format_datasets({"repcount": rep, "keraal": keraal})
    assert "RepCount" in text and "KERAAL" in text
