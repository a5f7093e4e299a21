"""The annotated video of the demo command (``make demo``) plays in a browser: headless Chromium decodes it
(``readyState`` >= 2) and a frame drawn to a canvas shows the picture, not a blank."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading

import av
import pytest
from webutil import browser, require_chromium

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


def test_demo_annotated_video_plays_in_chromium(tmp_path, sample_squat):
    require_chromium()
    video = tmp_path / "annotated.mp4"
    proc = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(sample_squat), "--exercise", "squat",
                           "--json", str(tmp_path / "report.json"), "--annotated", str(video), "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
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
