"""``formcheck bench``: per-stage timings, fps per model, pipeline vs bare inference, peak memory."""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from formcheck.engine import create_analyzer
from formcheck.io.sources import Frame, FrameSource, VideoFileSource
from formcheck.io.video import AnnotatedVideoWriter
from formcheck.pipeline.loop import StageTimes, run
from formcheck.pipeline.sinks import BaseSink, ThreadedSink
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "squat_side.mp4"



class _TimedSink(BaseSink):
    """Times another sink (drawing and encoding the annotated video) into ``acc[0]``."""

    def __init__(self, inner: BaseSink, acc: list[float]):
        self.inner, self.acc = inner, acc

    def __call__(self, result) -> None:
        t0 = time.perf_counter()
        self.inner(result)
        self.acc[0] += time.perf_counter() - t0

    def close(self) -> None:
        self.inner.close()

def letterbox_clip(src: Path, dst: Path, size: tuple[int, int], max_frames: int) -> Path:
    """Write ``src`` fitted into ``size`` (width, height) with borders, so speed is measured at that resolution."""
    w, h = size
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    with VideoFileSource(src) as source:
        for frame in source:
            if frame.index >= max_frames:
                break
            ih, iw = frame.image.shape[:2]
            scale = min(w / iw, h / ih)
            small = cv2.resize(frame.image, (int(iw * scale), int(ih * scale)), interpolation=cv2.INTER_AREA)
            canvas = np.full((h, w, 3), 40, np.uint8)
            y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
            canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
            writer.write(canvas)
    writer.release()
    return dst


class _MemorySource(FrameSource):
    def __init__(self, frames: list[Frame], fps: float):
        self.frames, self.fps, self.frame_count, self.name = frames, fps, len(frames), "memory"

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)


def decode_all(path: Path) -> tuple[list[Frame], float, float]:
    """Decode every frame; return frames, fps and decode ms per frame."""
    t0 = time.perf_counter()
    with VideoFileSource(path) as source:
        frames = list(source)
        fps = source.fps
    return frames, fps, 1000 * (time.perf_counter() - t0) / max(len(frames), 1)


def bare_loop(frames: list[Frame], model: str) -> float:
    """Milliseconds per frame of a bare ``detect_for_video`` loop (no smoothing, analysis or drawing)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from formcheck.pose.models import check_model

    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(check_model(model))), running_mode=vision.RunningMode.VIDEO
    )
    with vision.PoseLandmarker.create_from_options(opts) as landmarker:
        t0 = time.perf_counter()
        for f in frames:
            rgb = cv2.cvtColor(f.image, cv2.COLOR_BGR2RGB)
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(f.timestamp * 1000))
        return 1000 * (time.perf_counter() - t0) / len(frames)


def pipeline_run(path: Path, model: str, exercise: str, annotate: Path | None) -> tuple[StageTimes, float, int]:
    """Run the real pipeline on a file (decode overlapped); return stage times, wall seconds and frames."""
    times = StageTimes()
    with PoseEstimator.create(PoseEstimatorOptions(model=model)) as estimator, VideoFileSource(path) as source:
        sinks = []
        if annotate:
            writer = AnnotatedVideoWriter(annotate, source.fps, exercise, model)
            draw_times = times.extra.setdefault("draw_s", [0.0])

            sinks.append(ThreadedSink(_TimedSink(writer, draw_times), name="annotate"))
        t0 = time.perf_counter()
        report = run(source, estimator, create_analyzer(exercise), sinks=sinks, times=times)
        wall = time.perf_counter() - t0
    return times, wall, report.frames


def measure(models: tuple[str, ...] = ("lite", "full", "heavy"), clip: Path = SAMPLE, max_frames: int = 300,
            exercise: str = "squat") -> dict:
    """Benchmark every model on ``clip`` letterboxed to 1280x720 (and 640x480 for live)."""
    out: dict = {"clip": clip.name, "frames": 0, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        hd = letterbox_clip(clip, Path(tmp) / "clip_720p.mp4", (1280, 720), max_frames)
        frames, fps, decode_ms = decode_all(hd)
        out["frames"], out["resolution"], out["decode_ms"] = len(frames), "1280x720", round(decode_ms, 2)
        for model in models:
            bare_ms = bare_loop(frames, model)
            plain, plain_wall, plain_n = pipeline_run(hd, model, exercise, None)
            times, wall, n = pipeline_run(hd, model, exercise, Path(tmp) / f"annotated_{model}.mp4")
            stage = times.per_frame_ms()
            pipe_fps, annotated_fps = plain_n / plain_wall, n / wall
            out["models"][model] = {
                "bare_ms": round(bare_ms, 2),
                "bare_fps": round(1000 / bare_ms, 1),
                "pipeline_fps": round(pipe_fps, 1),
                "pipeline_over_bare": round(pipe_fps / (1000 / bare_ms), 3),
                "realtime_factor_30fps": round(pipe_fps / fps, 2),
                "annotated_fps": round(annotated_fps, 1),
                "annotated_realtime_factor_30fps": round(annotated_fps / fps, 2),
                "stage_ms": {
                    "decode (thread)": round(stage["decode"], 2),
                    "pose": round(stage["pose"], 2),
                    "analysis": round(stage["analysis"], 3),
                    "drawing+encode (thread)": round(1000 * times.extra["draw_s"][0] / max(n, 1), 2),
                    "loop overhead (sinks enqueue)": round(stage["sinks"], 3),
                },
            }
        live = letterbox_clip(clip, Path(tmp) / "clip_480p.mp4", (640, 480), max_frames)
        out["live_640x480"] = _live_fps(live)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _live_fps(path: Path) -> dict:
    """Frames per second the live loop sustains at 640x480 with the full model (paced like a camera)."""
    from formcheck.bench.live import measure_live_fps

    return measure_live_fps(path, "full")


def format_table(result: dict) -> str:
    lines = [
        f"clip {result['clip']} letterboxed to {result['resolution']}, {result['frames']} frames; "
        f"decode {result['decode_ms']} ms/frame; peak RSS {result['peak_rss_mb']} MB",
        f"{'model':<7}{'bare ms':>9}{'bare fps':>10}{'pipe fps':>10}{'pipe/bare':>11}{'x realtime':>12}"
        f"{'+video fps':>12}{'x realtime':>12}{'pose ms':>9}{'analysis ms':>13}{'draw ms':>9}",
    ]
    for model, m in result["models"].items():
        s = m["stage_ms"]
        lines.append(
            f"{model:<7}{m['bare_ms']:>9}{m['bare_fps']:>10}{m['pipeline_fps']:>10}{m['pipeline_over_bare']:>11}"
            f"{m['realtime_factor_30fps']:>12}{m['annotated_fps']:>12}{m['annotated_realtime_factor_30fps']:>12}"
            f"{s['pose']:>9}{s['analysis']:>13}{s['drawing+encode (thread)']:>9}"
        )
    lines.append("pipe = report only (decode overlapped); +video = also drawing and encoding an annotated video")
    lines.append(f"live 640x480 full: {result['live_640x480']}")
    return "\n".join(lines)
