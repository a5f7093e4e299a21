"""``formcheck bench-page``: the exercise page in headless Chromium (software WASM) with a real clip as its fake
webcam: frames per second the page analyses on the device per model, and the count it shows against
``formcheck analyze`` on the same part of the clip. Speed is measured here, never asserted in tests."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from formcheck.bench.server import ServerProcess, setup_accounts

CHROMIUM = Path(os.environ.get("FORMCHECK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def write_y4m(src: Path, dst: Path, start_s: float, end_s: float, size=(360, 640), fps: int = 15) -> int:
    """A part of a video as an uncompressed Y4M file (what Chromium's fake camera plays); returns frames."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise FileNotFoundError(src)
    src_fps = cap.get(cv2.CAP_PROP_FPS)
    w, h = size
    written = 0
    with dst.open("wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        index, next_t = 0, start_s
        while next_t < end_s:
            ok, frame = cap.read()
            if not ok:
                break
            t = index / src_fps
            index += 1
            if t + 0.5 / src_fps < next_t:
                continue
            small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n" + cv2.cvtColor(small, cv2.COLOR_BGR2YUV_I420).tobytes())
            written += 1
            next_t += 1.0 / fps
    cap.release()
    return written


def _segment_count(clip: Path, start_s: float, end_s: float, model: str, exercise: str) -> int:
    """``formcheck analyze``'s count on the same part of the clip (the same pipeline, the same model)."""
    from formcheck.engine import create_analyzer
    from formcheck.io.sources import VideoFileSource
    from formcheck.pipeline.loop import FrameLoop
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
    from formcheck.pose.smoothing import PoseSmoother

    loop = FrameLoop(create_analyzer(exercise), smoother=PoseSmoother())
    source = VideoFileSource(clip)
    with PoseEstimator.create(PoseEstimatorOptions(model=model)) as estimator:
        for frame in source:
            if frame.timestamp < start_s:
                continue
            if frame.timestamp > end_s:
                break
            t = frame.timestamp - start_s
            loop.step(frame, estimator.detect_for_video(frame.image, t))
    source.close()
    return loop.finish().rep_count


def measure_page(clip: Path, models=("lite", "full"), start_s: float = 6.5, end_s: float = 20.5,
                 fps: int = 30, exercise: str = "squat") -> dict:
    """Per model: the page's analysed fps over one pass of the segment, its count, and analyze's count."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FileNotFoundError(f"Chromium not found at {CHROMIUM} (set FORMCHECK_CHROMIUM)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="formcheck-page-") as tmp, ServerProcess(Path(tmp) / "server") as server:
        _, patient, _ = setup_accounts(server)
        y4m = Path(tmp) / "clip.y4m"
        frames = write_y4m(Path(clip), y4m, start_s, end_s, fps=fps)
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={y4m}"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
            for model in models:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_cookies([{"name": "formcheck_token", "value": patient.token, "url": server.url}])
                page = context.new_page()
                page.goto(f"{server.url}/exercise?exercise={exercise}&model={model}")
                page.get_by_role("button", name="Start").click()
                page.locator("#pose-mode").filter(has_text="on this device").wait_for(timeout=120_000)
                page.locator("#conn").filter(has_text="per second").wait_for(timeout=60_000)
                time.sleep(max(0.0, end_s - start_s - 3.0))  # about one pass of the segment
                text = page.locator("#conn").inner_text()
                count = int(page.locator("#rep-count").inner_text())
                page.get_by_role("button", name="Stop", exact=True).click()
                page.locator("#summary").wait_for(timeout=30_000)
                context.close()
                match = re.search(r"([\d.]+) frames per second", text)
                rows.append({"model": model, "page_fps": float(match.group(1)) if match else None,
                             "camera_fps": fps, "page_count": count,
                             "analyze_count": _segment_count(Path(clip), start_s, end_s, model, exercise)})
            browser.close()
    return {"clip": Path(clip).name, "segment_s": [start_s, end_s], "y4m_frames": frames, "cores": os.cpu_count(),
            "models": rows}


def format_page(r: dict) -> str:
    camera_fps = r["models"][0]["camera_fps"] if r["models"] else "?"
    lines = [f"{r['clip']} {r['segment_s'][0]}-{r['segment_s'][1]} s as a {camera_fps} fps fake webcam, headless "
             f"Chromium (software WASM), {r['cores']} cores",
             "model | page fps | page count | formcheck analyze count (same segment)"]
    for m in r["models"]:
        lines.append(f"{m['model']} | {m['page_fps']} | {m['page_count']} | {m['analyze_count']}")
    return "\n".join(lines)
