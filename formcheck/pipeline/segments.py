"""Offline analysis on every core: a recorded video is cut into consecutive parts, and each part's poses are
estimated by a pose estimator of its own in a thread of its own (MediaPipe's inference runs outside the GIL, on
one core each), while the frame loop takes the poses in frame order.

MediaPipe's video mode tracks the body from frame to frame and smooths the landmarks over time, so a part
that starts cold would give different landmarks for its first frames. Every part after the first therefore
starts ``warmup_s`` earlier, on frames the previous part also sees, and keeps its poses only from its own
first frame on, by when the tracker and the smoothing have settled on the same body. ``formcheck eval`` with
and without the parts is the check that nothing is lost (docs/architecture.md)."""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from formcheck.io.sources import Frame, VideoFileSource
from formcheck.pipeline.results import StageTimes
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.types import Pose

_END = object()


@dataclass(frozen=True)
class Segment:
    """One part of a video: decoded from ``start``, poses kept from ``keep``, up to ``stop`` (None: the end)."""

    start: int
    keep: int
    stop: int | None


def plan_segments(frame_count: int, fps: float, threads: int, *, warmup_s: float = 1.0,
                  min_part_s: float = 3.0) -> list[Segment]:
    """Cut ``frame_count`` frames into up to ``threads`` parts of at least ``min_part_s`` seconds (a shorter video
    is one part: the warm-up would cost more than the parts save). The parts are equal in the frames their
    estimators see, warm-up included, so they finish together: the later parts keep that many fewer frames."""
    fps = fps if fps > 0 else 30.0
    parts = max(1, min(threads, int(frame_count / (min_part_s * fps)))) if frame_count > 0 else 1
    if parts == 1:
        return [Segment(0, 0, None)]
    warm = math.ceil(warmup_s * fps)
    share = (frame_count + (parts - 1) * warm) / parts  # frames each part's estimator sees
    bounds = [0] + [round(i * share - (i - 1) * warm) for i in range(1, parts)] + [None]
    return [Segment(max(0, bounds[i] - warm) if i else 0, bounds[i], bounds[i + 1]) for i in range(parts)]


def segmented_poses(source: VideoFileSource, estimator: PoseEstimator, segments: list[Segment],
                    times: StageTimes | None = None) -> Iterator[tuple[Frame, Pose]]:
    """``(frame, pose)`` for every frame of ``source`` in order, the parts estimated at once. The frames carry
    no pixels (``image`` None). The first part uses ``estimator``; the others use ``estimator.copy()``, closed at the
    end. A part's error is raised here; leaving the iteration early stops every part."""
    times = times if times is not None else StageTimes()
    outputs = [queue.SimpleQueue() for _ in segments]
    stop = threading.Event()
    lock = threading.Lock()

    def work(seg: Segment, out: queue.SimpleQueue, first: bool) -> None:
        own = estimator if first else None
        try:
            if own is None:
                own = estimator.copy()
            # one decoding thread per part: the parts already keep every core busy
            frames = iter(source.frames(seg.start, seg.stop, threads=1))
            while not stop.is_set():
                t0 = time.perf_counter()
                frame = next(frames, None)
                t1 = time.perf_counter()
                if frame is None:
                    break
                pose = own.detect_for_video(frame.image, frame.timestamp)
                t2 = time.perf_counter()
                with lock:
                    times.decode += t1 - t0
                    times.pose += t2 - t1
                    times.model_frames += 1
                if frame.index >= seg.keep:
                    out.put((Frame(None, frame.timestamp, frame.index), pose))
            out.put(_END)
        except BaseException as exc:  # handed to the consumer
            out.put(exc)
        finally:
            if own is not None and not first:
                own.close()

    threads = [threading.Thread(target=work, args=(seg, out, i == 0), name=f"pose-part-{i}", daemon=True)
               for i, (seg, out) in enumerate(zip(segments, outputs, strict=True))]
    for thread in threads:
        thread.start()
    last = -1
    try:
        for out in outputs:
            while (item := out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                last = item[0].index
                yield item
        if source.frame_count and last + 1 < source.frame_count * 0.9:
            source.interrupted = (f"{source.name} ended after {last + 1} of {source.frame_count} frames "
                                  "(truncated file?)")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
