"""End to end: `formcheck analyze` with the real pose model on real video, for a lying exercise (the standing
squat of the bundled sample: tests/cli/test_analyze_e2e.py), and clear errors for unknown or invalid specs."""

import json
import subprocess
import sys

import pytest


def analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", "analyze", *args, "--no-progress"],
                          capture_output=True, text=True, timeout=600)


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
