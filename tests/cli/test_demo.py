"""The demo command (``make demo``: the bundled clip, the default full model) end to end: the report, the landmarks
and the annotated video, which plays in a browser: headless Chromium decodes it (``readyState`` >= 2) and a frame
drawn to a canvas shows the picture, not a blank. One run of the command for all of it."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading

import av
import pytest
from webutil import browser, require_chromium

from formcheck.io.recording import PoseStream
from formcheck.io.sources import VideoFileSource

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGE = """<!doctype html><html><body>
<video id="v" src="annotated.mp4" muted playsinline preload="auto"></video>
<canvas id="c"></canvas>
</body></html>"""


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_demo_writes_report_landmarks_and_a_video_that_plays_in_chromium(tmp_path, sample_squat):
    video = tmp_path / "annotated.mp4"
    proc = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(sample_squat), "--exercise", "squat",
                           "--json", str(tmp_path / "report.json"), "--annotated", str(video),
                           "--landmarks", str(tmp_path / "lm.npz")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"exercise", "rep_count", "reps", "holds", "warnings", "frames", "frames_with_person",
            "duration_s"} <= report.keys()
    assert report["rep_count"] == 2 and "repetitions: 2" in proc.stdout  # samples/README.md: standing 0-8 s
    assert all(r["start_s"] > 8.0 for r in report["reps"])
    assert all(set(r["score_parts"]) == {"range_of_motion", "control", "form"} for r in report["reps"])
    assert report["summary"]["reps"] == 2 and "avg_score" in report["summary"]
    series = report["series"]["squat"]  # series per exercise, the same shape as a programme session's
    assert len(series["knee"]) == len(series["t"]) > 0 and series["target_band"]["knee"] == [110.0, 150.0]
    assert report["frames"] == 614 and report["frames_with_person"] >= 0.95 * report["frames"]
    assert report["duration_s"] == pytest.approx(20.5, abs=0.2)
    stream = PoseStream.load(tmp_path / "lm.npz")
    assert len(stream) == 614 and stream.image_size == (608, 1080)
    with VideoFileSource(video) as annotated:
        assert sum(1 for _ in annotated) == 614

    require_chromium()
    with av.open(str(video)) as container:
        codec = container.streams.video[0].codec_context
        assert (codec.name, codec.pix_fmt) == ("h264", "yuv420p")
        assert codec.width == 608 and codec.height == 1080  # the source's size
    assert video.stat().st_size < 2 * sample_squat.stat().st_size  # about the source's size, not 5-9 times it
    (tmp_path / "index.html").write_text(PAGE)
    server = _serve(tmp_path)
    try:
        with browser() as b:
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            page.wait_for_function("document.getElementById('v').readyState >= 2 || "
                                   "document.getElementById('v').error !== null", timeout=30000)
            state = page.evaluate("""async () => {
                const v = document.getElementById('v');
                if (v.error) return {error: v.error.code};
                v.currentTime = 9.0;  // the first squat, skeleton drawn
                await new Promise(r => v.addEventListener('seeked', r, {once: true}));
                const c = document.getElementById('c');
                c.width = v.videoWidth; c.height = v.videoHeight;
                const g = c.getContext('2d');
                g.drawImage(v, 0, 0);
                const d = g.getImageData(0, 0, c.width, c.height).data;
                let sum = 0, sq = 0, n = 0;
                for (let i = 0; i < d.length; i += 4 * 97) { const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
                    sum += y; sq += y * y; n++; }
                const mean = sum / n;
                return {readyState: v.readyState, width: v.videoWidth, height: v.videoHeight,
                        duration: v.duration, mean, std: Math.sqrt(sq / n - mean * mean)};
            }""")
    finally:
        server.shutdown()
    assert "error" not in state, f"Chromium could not play the video (MediaError {state.get('error')})"
    assert state["readyState"] >= 2
    assert (state["width"], state["height"]) == (608, 1080)
    assert state["duration"] == pytest.approx(20.5, abs=0.2)
    assert state["std"] > 10 and 10 < state["mean"] < 245  # a picture, not a blank (black, white or flat) frame
