"""The live loop's speed (``formcheck bench``): frames analysed and shown per second and the preview's lag, on a
video scaled like a camera and paced in real time. Speed is measured here, never asserted in a test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from formcheck.coaching.flow import SessionFlow
from formcheck.coaching.plan import PlanItem
from formcheck.coaching.session import CoachedSession
from formcheck.engine import create_analyzer
from formcheck.io.sources import Frame, FrameSource, RealtimeSource, VideoFileSource
from formcheck.live.analysis import AnalysisThread
from formcheck.live.frames import LatestFrameReader
from formcheck.live.hud import render
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
from formcheck.pose.smoothing import PoseSmoother


class ResizedSource(FrameSource):
    """Frames of another source scaled to a fixed size (the benchmark's 640x480 camera)."""

    def __init__(self, inner: FrameSource, size: tuple[int, int]):
        self.inner, self.size = inner, size
        self.fps, self.frame_count, self.name = inner.fps, inner.frame_count, inner.name

    def __iter__(self) -> Iterator[Frame]:
        for f in self.inner:
            if f.size == self.size:
                yield f
            else:
                yield Frame(cv2.resize(f.image, self.size, interpolation=cv2.INTER_AREA), f.timestamp, f.index)

    def close(self) -> None:
        self.inner.close()


def measure_live_fps(source: str | Path, model: str = "full", size: tuple[int, int] = (640, 480),
                     seconds: float | None = None, canvas: tuple[int, int] = (1280, 720)) -> dict:
    """Run the live loop (pose and session flow in the analysis thread, HUD drawing in this one; no window) on a
    video scaled to ``size`` and paced in real time like a camera.

    ``analysed_fps`` is the rate frames are analysed, ``shown_fps`` the rate previews are drawn: the loop keeps up
    when they are close to ``source_fps``. Late frames are dropped, so the frame age when its preview is drawn
    (``lag_ms``, from reading the frame) stays about one inference long instead of growing."""
    est = PoseEstimator.create(PoseEstimatorOptions(model=model))  # before the clock starts
    flow = SessionFlow([PlanItem("squat", "Squat", reps=1000)], create_analyzer, None, intro_s=0)
    inner = ResizedSource(VideoFileSource(source), size)
    realtime = RealtimeSource(inner)
    reader = LatestFrameReader(realtime)
    session = CoachedSession(flow, smoother=PoseSmoother(), model=model, source=str(source))
    analyser = AnalysisThread(reader.frames(idle_s=0.1), est, session, threading.Lock())
    lags, draw_s, shown = [], 0.0, 0
    started = time.monotonic()
    analyser.start()
    try:
        while True:
            item = analyser.results.get(timeout=0.05)
            if item is None:
                if analyser.done.is_set() and analyser.results.empty():
                    break
                continue
            a = time.perf_counter()
            render(item.frame.image, item.pose, item.view, size=canvas, mirror=True, fps=30.0, model=model)
            draw_s += time.perf_counter() - a
            lags.append(time.monotonic() - reader.arrived)
            shown += 1
            if seconds is not None and item.t >= seconds:
                analyser.stop.set()
        analyser.join()
        wall = time.monotonic() - started
    finally:
        analyser.stop.set()
        reader.close()
        est.close()
        realtime.close()
    if analyser.error is not None:
        raise analyser.error
    return _report(model, size, inner, analyser, reader, realtime, shown, wall, lags, draw_s)


def _report(model, size, inner, analyser, reader, realtime, shown, wall, lags, draw_s) -> dict:
    n = max(analyser.frames, 1)
    return {
        "model": model,
        "size": f"{size[0]}x{size[1]}",
        "source_fps": round(inner.fps, 2),
        "frames_analysed": analyser.frames,
        "frames_shown": shown,
        "frames_dropped": reader.dropped + realtime.dropped,
        "analysed_fps": round(analyser.frames / wall, 1) if wall else 0.0,
        "shown_fps": round(shown / wall, 1) if wall else 0.0,
        "wall_s": round(wall, 2),
        "lag_ms_median": round(1000 * float(np.median(lags)), 1) if lags else None,
        "lag_ms_p95": round(1000 * float(np.percentile(lags, 95)), 1) if lags else None,
        "ms_per_frame": {
            "pose": round(1000 * analyser.pose_s / n, 2),
            "flow": round(1000 * analyser.flow_s / n, 2),
            "draw": round(1000 * draw_s / max(shown, 1), 2),
        },
    }
