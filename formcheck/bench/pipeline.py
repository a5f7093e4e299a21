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
from formcheck.io.video import AnnotatedVideoWriter, H264Writer
from formcheck.pipeline.loop import StageTimes, run
from formcheck.pipeline.sinks import BaseSink, ThreadedSink
from formcheck.pipeline.stride import StridePolicy
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
    """Write ``max_frames`` frames of ``src`` (played again from the start when it is shorter) fitted into ``size``
    (width, height) with borders, as H.264 like a phone's upload, so speed is measured at that resolution and length."""
    w, h = size
    writer = H264Writer(dst, 30.0, crf=23, preset="veryfast")
    written = 0
    while written < max_frames:
        before = written
        with VideoFileSource(src) as source:
            for frame in source:
                if written >= max_frames:
                    break
                ih, iw = frame.image.shape[:2]
                scale = min(w / iw, h / ih)
                small = cv2.resize(frame.image, (int(iw * scale), int(ih * scale)), interpolation=cv2.INTER_AREA)
                canvas = np.full((h, w, 3), 40, np.uint8)
                y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
                canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
                writer.write(canvas)
                written += 1
        if written == before:  # nothing to read
            break
    writer.close()
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


def pipeline_run(path: Path, model: str, exercise: str, annotate: Path | None,
                 max_stride: int, threads: int = 1) -> tuple[StageTimes, float, int]:
    """Run the real pipeline on a file (decode overlapped); return stage times, wall seconds and frames."""
    times = StageTimes()
    with PoseEstimator.create(PoseEstimatorOptions(model=model)) as estimator, VideoFileSource(path) as source:
        sinks = []
        if annotate:
            writer = AnnotatedVideoWriter(annotate, source.fps, exercise, model)
            draw_times = times.extra.setdefault("draw_s", [0.0])

            sinks.append(ThreadedSink(_TimedSink(writer, draw_times), name="annotate"))
        t0 = time.perf_counter()
        report = run(source, estimator, create_analyzer(exercise), sinks=sinks, times=times,
                     stride=StridePolicy(max_stride=max_stride), threads=threads)
        wall = time.perf_counter() - t0
    return times, wall, report.frames


def _stage_ms(times: StageTimes, frames: int) -> dict:
    stage = times.per_frame_ms()
    out = {
        "decode (thread)": round(stage["decode"], 2),
        "pose (per video frame)": round(stage["pose"], 2),
        "pose (per model frame)": round(1000 * times.pose / max(times.model_frames, 1), 2),
        "analysis (thread)": round(stage["analysis"], 3),
        "loop overhead (sinks enqueue)": round(stage["sinks"], 3),
    }
    if "draw_s" in times.extra:
        out["drawing+encode (thread)"] = round(1000 * times.extra["draw_s"][0] / max(frames, 1), 2)
    return out


def measure(models: tuple[str, ...] = ("lite", "full", "heavy"), clip: Path = SAMPLE, max_frames: int = 900,
            exercise: str = "squat", max_stride: int | None = None, threads: int | None = None,
            repeat: int = 3) -> dict:
    """Benchmark every model on ``clip`` letterboxed to 1280x720 (and 640x480 for live): bare full-rate inference
    (one ``detect_for_video`` loop over decoded frames), the offline pipeline as uploads run it (every frame,
    in ``threads`` parts at once, default one per core), the same in one part, with the adaptive stride
    (``max_stride``, default 3) and with an annotated video. Bare inference and the pipeline in parts are
    measured back to back ``repeat`` times; the round with the median ratio is reported (on a shared machine the
    speed drifts from minute to minute: a ratio of two runs far apart, or of the quickest of each, mixes states)."""
    from formcheck.core.settings import Settings

    stride = max_stride or 3
    threads = threads or Settings().pose_threads
    out: dict = {"clip": clip.name, "frames": 0, "models": {}, "max_stride": stride, "threads": threads,
                 "repeat": max(1, repeat)}
    with tempfile.TemporaryDirectory() as tmp:
        hd = letterbox_clip(clip, Path(tmp) / "clip_720p.mp4", (1280, 720), max_frames)
        frames, fps, decode_ms = decode_all(hd)
        out["frames"], out["resolution"], out["decode_ms"] = len(frames), "1280x720", round(decode_ms, 2)
        out["source_bytes"] = hd.stat().st_size
        for model in models:
            rounds = []  # (bare ms, pipeline run): measured back to back, so both see the machine in one state
            for _ in range(max(1, repeat)):
                bare = bare_loop(frames, model)
                rounds.append((bare, pipeline_run(hd, model, exercise, None, 1, threads)))
            ratios = [n / wall * bare / 1000 for bare, (_, wall, n) in rounds]
            middle = sorted(range(len(rounds)), key=ratios.__getitem__)[len(rounds) // 2]
            bare_ms, (par, par_wall, par_n) = rounds[middle]
            bare_fps = 1000 / bare_ms
            off, off_wall, off_n = pipeline_run(hd, model, exercise, None, 1)
            on, on_wall, on_n = pipeline_run(hd, model, exercise, None, stride)
            video = Path(tmp) / f"annotated_{model}.mp4"
            ann, ann_wall, ann_n = pipeline_run(hd, model, exercise, video, 1)
            par_fps, off_fps, on_fps = par_n / par_wall, off_n / off_wall, on_n / on_wall
            ann_fps = ann_n / ann_wall
            out["models"][model] = {
                "bare_ms": round(bare_ms, 2),
                "bare_fps": round(bare_fps, 1),
                "pipeline_fps": round(par_fps, 1),
                "pipeline_over_bare": round(par_fps / bare_fps, 3),
                "pipeline_over_bare_rounds": [round(r, 3) for r in ratios],
                "realtime_factor_30fps": round(par_fps / fps, 2),
                "model_frames_fraction": round(par.model_frames / max(par.frames, 1), 3),
                "one_part_fps": round(off_fps, 1),
                "one_part_over_bare": round(off_fps / bare_fps, 3),
                "one_part_realtime_factor_30fps": round(off_fps / fps, 2),
                "stride_fps": round(on_fps, 1),
                "stride_over_bare": round(on_fps / bare_fps, 3),
                "stride_model_frames_fraction": round(on.model_frames / max(on.frames, 1), 3),
                "annotated_fps": round(ann_fps, 1),
                "annotated_realtime_factor_30fps": round(ann_fps / fps, 2),
                "annotated_bytes": video.stat().st_size,
                "annotated_over_source_size": round(video.stat().st_size / out["source_bytes"], 2),
                "stage_ms": {f"{threads} parts": _stage_ms(par, par_n), "one part": _stage_ms(off, off_n),
                             "stride": _stage_ms(on, on_n), "one part + video": _stage_ms(ann, ann_n)},
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
        f"clip {result['clip']} letterboxed to {result['resolution']} (H.264, {result['source_bytes']} bytes), "
        f"{result['frames']} frames; decode {result['decode_ms']} ms/frame; {result['threads']} parts; stride up to "
        f"{result['max_stride']}; bare and parts: the median of {result.get('repeat', 1)} rounds; "
        f"peak RSS {result['peak_rss_mb']} MB",
        f"{'model':<7}{'bare ms':>9}{'bare fps':>10}{'pipe fps':>10}{'pipe/bare':>11}{'x realtime':>12}"
        f"{'1 part fps':>12}{'1part/bare':>12}{'stride fps':>12}{'stride/bare':>13}{'model %':>9}"
        f"{'+video fps':>12}{'x realtime':>12}{'video size':>12}",
    ]
    for model, m in result["models"].items():
        lines.append(
            f"{model:<7}{m['bare_ms']:>9}{m['bare_fps']:>10}{m['pipeline_fps']:>10}{m['pipeline_over_bare']:>11}"
            f"{m['realtime_factor_30fps']:>12}{m['one_part_fps']:>12}{m['one_part_over_bare']:>12}"
            f"{m['stride_fps']:>12}{m['stride_over_bare']:>13}{100 * m['stride_model_frames_fraction']:>8.0f}%"
            f"{m['annotated_fps']:>12}{m['annotated_realtime_factor_30fps']:>12}{m['annotated_over_source_size']:>11}x"
        )
    lines.append("pipe = the offline pipeline as uploads run it (every frame, the video in parts estimated at once); "
                 "1 part = the same in one thread; stride = one part with the adaptive stride (model % = frames the "
                 "model saw); +video = one part writing an annotated H.264 video; video size = annotated / source")
    lines.append("per-stage ms per video frame (decode and pose summed over the parts' threads):")
    for model, m in result["models"].items():
        for run_name, stages in m["stage_ms"].items():
            lines.append(f"  {model:<6} {run_name:<18} " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    lines.append(f"live 640x480 full: {result['live_640x480']}")
    return "\n".join(lines)
