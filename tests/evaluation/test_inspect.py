"""``formcheck inspect``: margins, near misses and the plot, on bundled landmark streams."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from formcheck.engine import load_spec
from formcheck.evaluation.inspect import near_misses, plot, rep_margins, report, trace
from formcheck.io.recording import PoseStream

LANDMARKS = Path(__file__).resolve().parents[2] / "samples" / "landmarks"


def test_margins_of_counted_squats_and_the_plot(tmp_path):
    tr = trace(list(PoseStream.load(LANDMARKS / "squat_oblique.npz")), load_spec("squat"))
    margins = rep_margins(tr)
    assert len(margins) == len(tr.reps) == 6  # samples/README.md: 6 squats
    assert all("past it" in m for m in margins)
    assert set(tr.signals) == {"knee", "trunk"} and len(tr.signals["knee"]) == len(tr.t)
    png = plot(tr, tmp_path / "squat.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_movement_short_of_the_target_is_explained():
    tr = trace(list(PoseStream.load(LANDMARKS / "squat_oblique.npz")), load_spec("squat"))
    knee = tr.signals["knee"]
    deepest = np.nanmin(knee)
    # the same clip against a spec asking for 5 degrees deeper than the deepest squat: nothing counts, and
    # every squat is listed as not counted, about 5 degrees short
    spec = load_spec("squat").model_copy(update={"rep": load_spec("squat").rep.model_copy(
        update={"target": float(deepest) - 5.0, "min_range": 10.0, "calibrate": None})})
    deep = trace(list(PoseStream.load(LANDMARKS / "squat_oblique.npz")), spec)
    misses = near_misses(deep)
    assert len(deep.reps) == 0 or all("counted_by" in r.score_parts for r in deep.reps)
    assert len(misses) >= 5 and all("short of the target" in m for m in misses)
    assert "not counted:" in report(deep)


def test_inspect_command_on_a_landmark_stream(tmp_path):
    out = tmp_path / "legraise.png"
    proc = subprocess.run([sys.executable, "-m", "formcheck", "inspect", str(LANDMARKS / "legraise_supine.npz"),
                           "-e", "straight_leg_raise", "--out", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Straight leg raise" in proc.stdout and "1 repetitions" in proc.stdout and out.exists()
    bad = subprocess.run([sys.executable, "-m", "formcheck", "inspect", str(tmp_path / "missing.npz"), "-e",
                          "squat"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not found" in bad.stderr
