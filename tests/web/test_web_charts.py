"""The chart helpers of the web pages (server/web/static/charts.js), run with Node when it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "server" / "web" / "static"


def run_js(code: str):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/system-deps.sh installs it)")
    script = f"import * as charts from {json.dumps((STATIC / 'charts.js').as_uri())};\n{code}"
    done = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_nice_ticks_are_round_and_cover_the_range():
    ticks = run_js("console.log(JSON.stringify([charts.niceTicks(0, 17.3), charts.niceTicks(61.2, 173.9)]))")
    assert ticks == [[0, 5, 10, 15], [75, 100, 125, 150]]


def test_numbers_keep_the_digits_that_matter():
    out = run_js("console.log(JSON.stringify([120, 145.5, 62.25, 3.25, 0.5].map(charts.fmtNum)))")
    assert out == ["120", "145.5", "62.3", "3.25", "0.5"]


def test_long_series_are_thinned_but_keep_peaks_and_gaps():
    out = run_js(
        """
        const pts = Array.from({length: 20000}, (_, i) => [i / 30, 100 + 40 * Math.sin(i / 40)]);
        pts[12345][1] = 400;                                   // one spike
        for (let i = 15000; i < 15400; i++) pts[i][1] = NaN;   // nobody in view for a while
        const d = charts.decimate(pts, 1000);
        const ys = d.map((p) => p[1]);
        const sorted = d.every((p, i) => !i || d[i - 1][0] <= p[0]);
        console.log(JSON.stringify({n: d.length, max: Math.max(...ys.filter(Number.isFinite)),
                                    gap: ys.some((y) => Number.isNaN(y)), sorted}));
        """
    )
    assert out["n"] <= 1000 and out["max"] == 400 and out["gap"] and out["sorted"]
