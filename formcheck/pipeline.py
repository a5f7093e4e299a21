"""Source -> PoseEstimator -> smoother -> analyzer -> sinks, with decoding and sinks overlapped with inference."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from formcheck.analysis import Analyzer
from formcheck.background import BackgroundWorker
from formcheck.draw import BAD, GOOD, WARN, draw_label, draw_skeleton
from formcheck.events import Event, FormWarning, HoldCompleted, HoldProgress, RepCompleted, StateChanged
from formcheck.pose import Pose, PoseEstimator, PoseSmoother
from formcheck.report import SessionReport
from formcheck.sources import Frame, FrameSource

_END = object()


@dataclass(slots=True)
class FrameResult:
    frame: Frame
    pose: Pose
    events: list[Event]


@dataclass
class StageTimes:
    """Accumulated seconds per stage (for ``formcheck bench``)."""

    decode: float = 0.0
    pose: float = 0.0
    analysis: float = 0.0
    sinks: float = 0.0
    frames: int = 0
    wall: float = 0.0
    extra: dict = field(default_factory=dict)

    def per_frame_ms(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {k: 1000 * getattr(self, k) / n for k in ("decode", "pose", "analysis", "sinks")}


def prefetch(iterable: Iterable, size: int = 8, times: StageTimes | None = None) -> Iterator:
    """Iterate ``iterable`` in a background thread (so decoding overlaps inference)."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    error: list[BaseException] = []

    def work():
        try:
            it = iter(iterable)
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    break
                if times is not None:
                    times.decode += time.perf_counter() - t0
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the consumer
            error.append(exc)
        finally:
            q.put(_END)

    thread = threading.Thread(target=work, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.05)
    if error:
        raise error[0]


class ThreadedSink(BackgroundWorker):
    """Runs a per-frame callable in its own thread so slow work (encoding video, writing) leaves the frame loop.
    ``close()`` also closes the callable when it has a ``close`` method."""

    def __init__(self, fn: Callable[[FrameResult], None], maxsize: int = 16, name: str = "sink"):
        super().__init__(fn, maxsize=maxsize, name=name)

    def __call__(self, result: FrameResult) -> None:
        self.submit(result)

    def close(self) -> None:
        try:
            super().close()
        finally:
            closer = getattr(self.fn, "close", None)
            if closer:
                closer()


def _exercise_title(exercise: str) -> tuple[str, str]:
    """The exercise's name and kind for the overlay ('Push-up', 'reps'); the id itself when it has no spec."""
    try:
        from formcheck.engine import load_spec

        spec = load_spec(exercise)
    except Exception:  # noqa: BLE001 - 'none', 'auto' or no catalog: the id is still a fine title
        return exercise, "reps"
    return spec.name, spec.kind


class Overlay:
    """Keeps what the annotated video shows (count, hold time, current cue) from the event stream."""

    def __init__(self, exercise: str, model: str = ""):
        self.exercise, self.model = exercise, model
        self.title, self.kind = _exercise_title(exercise)
        self.reps = 0
        self.hold_s: float | None = None
        self.hold_target: float = 0.0
        self.cue = ""
        self.cue_until = 0.0
        self.state_message = ""
        self.last_score: float | None = None
        self.flagged: set[int] = set()

    def update(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, RepCompleted):
                self.reps, self.last_score = e.index, e.score
            elif isinstance(e, HoldProgress):
                self.hold_s, self.hold_target = e.held_s, e.target_s
            elif isinstance(e, HoldCompleted):
                self.hold_s = None
            elif isinstance(e, FormWarning):
                self.cue, self.cue_until = e.message, e.t + 3.0
            elif isinstance(e, StateChanged):
                self.state_message = e.message

    def draw(self, image: np.ndarray, pose: Pose) -> np.ndarray:
        draw_skeleton(image, pose, self.flagged if pose.timestamp < self.cue_until else frozenset())
        h, w = image.shape[:2]
        scale = max(0.5, min(w, h) / 720)
        y = 10
        counted = "" if self.kind == "hold" else f"  reps {self.reps}"
        _, bh = draw_label(image, f"{self.title}{counted}", (10, y), scale)
        y += bh + 4
        if self.hold_s is not None:
            done = self.hold_target and self.hold_s >= self.hold_target
            _, bh = draw_label(
                image,
                f"hold {self.hold_s:4.1f}/{self.hold_target:.0f} s",
                (10, y),
                scale,
                GOOD if done else (255, 255, 255),
            )
            y += bh + 4
        if self.last_score is not None:
            color = GOOD if self.last_score >= 80 else WARN if self.last_score >= 50 else BAD
            _, bh = draw_label(image, f"last rep {self.last_score:.0f}/100", (10, y), scale * 0.8, color)
            y += bh + 4
        if not pose.present:
            draw_label(image, "no person in view", (10, h - int(60 * scale)), scale, WARN)
        elif pose.people > 1:
            draw_label(image, "more than one person in view", (10, h - int(60 * scale)), scale, WARN)
        elif pose.timestamp < self.cue_until and self.cue:
            draw_label(image, self.cue, (10, h - int(60 * scale)), scale, WARN)
        elif self.state_message:
            draw_label(image, self.state_message, (10, h - int(60 * scale)), scale * 0.9)
        return image


class AnnotatedVideoWriter:
    """Writes frames with the skeleton and counts drawn on them to an MP4 file."""

    def __init__(self, path: str | Path, fps: float, exercise: str, model: str = ""):
        self.path = Path(path)
        self.fps = fps
        self.overlay = Overlay(exercise, model)
        self._writer: cv2.VideoWriter | None = None

    def __call__(self, result: FrameResult) -> None:
        self.overlay.update(result.events)
        image = self.overlay.draw(result.frame.image.copy(), result.pose)
        if self._writer is None:
            h, w = image.shape[:2]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise OSError(f"cannot write video {self.path}")
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def run(
    source: FrameSource,
    estimator: PoseEstimator,
    analyzer: Analyzer,
    *,
    smoother: PoseSmoother | None = None,
    sinks: list[Callable[[FrameResult], None]] = (),
    on_frame: Callable[[FrameResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    times: StageTimes | None = None,
) -> SessionReport:
    """Run the whole flow over a source and return its report.

    Three stages overlap: decoding (a thread), pose inference (this thread) and analysis with the sinks
    (a thread), so inference never waits for the rest. ``sinks`` and ``on_frame`` (progress bars) are called in
    frame order from the analysis thread; wrap slow sinks in :class:`ThreadedSink`. ``should_stop`` lets a
    caller cancel: the report then covers what was done.
    """
    report = SessionReport(exercise=analyzer.exercise, model=estimator.model, source=source.name)
    times = times or StageTimes()
    started = time.perf_counter()
    last_t = [0.0]

    def analyse(frame: Frame, pose: Pose) -> None:
        t1 = time.perf_counter()
        if smoother is not None:
            pose = smoother(pose)
        events = analyzer.update(pose)
        for e in events:
            report.add(e)
        t2 = time.perf_counter()
        result = FrameResult(frame, pose, events)
        for sink in sinks:
            sink(result)
        times.analysis += t2 - t1
        times.sinks += time.perf_counter() - t2
        report.frames += 1
        report.frames_with_person += pose.present
        report.frames_with_several_people += pose.people > 1
        last_t[0] = frame.timestamp
        if on_frame is not None:
            on_frame(result)

    analysis = ThreadedSink(lambda item: analyse(*item), maxsize=32, name="analysis")
    try:
        for frame in prefetch(source, times=times):
            t0 = time.perf_counter()
            pose = estimator.detect_for_video(frame.image, frame.timestamp)
            times.pose += time.perf_counter() - t0
            times.frames += 1
            analysis((frame, pose))
            if should_stop is not None and should_stop():
                report.notices.append("analysis was stopped before the end of the video")
                break
    finally:
        analysis.close()
    for e in analyzer.finish(last_t[0]):
        report.add(e)
    report.exercise = analyzer.exercise  # ``auto`` becomes the recognised exercise
    times.wall += time.perf_counter() - started
    report.duration_s = round(last_t[0] + (1.0 / source.fps if report.frames else 0.0), 3)
    _add_input_notices(report, source)
    return report


def _add_input_notices(report: SessionReport, source: FrameSource) -> None:
    if source.interrupted:
        report.notices.append(source.interrupted)
    if report.frames and report.frames_with_person == 0:
        report.notices.append("nobody was seen in the video: make sure the whole body is in view")
    elif report.frames and report.frames_with_person < 0.5 * report.frames:
        report.notices.append(
            f"a person was seen in only {100 * report.frames_with_person // report.frames}% of the frames"
        )
    if report.frames_with_several_people > 0.2 * max(report.frames, 1):
        report.notices.append("more than one person was in view: results follow the most visible person")
