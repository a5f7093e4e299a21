"""End to end: `formcheck analyze` with the real pose model on real video, for a standing and a lying exercise."""

import json
import subprocess
import sys

import pytest


def analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", "analyze", *args, "--no-progress"],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_squats_standing_side_view(tmp_path, sample_squat):
    out = tmp_path / "squat.json"
    proc = analyze(str(sample_squat), "--exercise", "squat", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["rep_count"] == 2  # samples/README.md: 2 repetitions, standing 0-9 s
    assert all(r["start_s"] > 8.0 for r in report["reps"])
    assert all(set(r["score_parts"]) == {"range_of_motion", "control", "form"} for r in report["reps"])
    assert report["summary"]["reps"] == 2 and "avg_score" in report["summary"]
    series = report["series"]["squat"]  # series per exercise, the same shape as a programme session's
    assert len(series["knee"]) == len(series["t"]) > 0 and series["target_band"]["knee"] == [110.0, 150.0]
    assert "repetitions: 2" in proc.stdout


@pytest.mark.slow
def test_straight_leg_raise_lying_down(tmp_path, shared_data):
    out = tmp_path / "slr.json"
    clip = shared_data / "videos" / "physiobody" / "legraise.mp4"
    proc = analyze(str(clip), "--exercise", "straight_leg_raise", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    # ground_truth.csv: 1 repetition, leg held 2.5-5.5 s (tolerance 1 s)
    assert report["rep_count"] == 1
    assert len(report["holds"]) == 1 and abs(report["holds"][0]["duration_s"] - 3.0) <= 1.0


def test_unknown_exercise_is_a_clear_error(sample_squat):
    proc = analyze(str(sample_squat), "--exercise", "sqat")
    assert proc.returncode != 0
    assert "unknown exercise 'sqat'" in proc.stderr and "squat" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_spec_file_is_a_clear_error(tmp_path, sample_squat):
    spec = tmp_path / "mine.yaml"
    spec.write_text("id: mine\nname: Mine\nkind: reps\n")
    proc = analyze(str(sample_squat), "--exercise", str(spec))
    assert proc.returncode != 0
    assert "mine.yaml is not a valid exercise spec" in proc.stderr and "Traceback" not in proc.stderr
