"""The annotated video: the skeleton, count, hold time and current cue drawn on each frame, written to a file.

The cue shown is throttled like the live preview's (:mod:`formcheck.coaching.cues`); the report keeps every warning."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from formcheck.coaching.cues import CueBoard
from formcheck.core.events import Event, FormWarning, HoldCompleted, HoldProgress, RepCompleted, StateChanged
from formcheck.engine import load_spec
from formcheck.io.draw import BAD, GOOD, WARN, draw_label, draw_skeleton
from formcheck.pipeline.results import FrameResult
from formcheck.pipeline.sinks import BaseSink
from formcheck.pose.types import Pose


def _exercise_title(exercise: str) -> tuple[str, str]:
    """The exercise's name and kind for the overlay ('Push-up', 'reps'); the id itself when it has no spec."""
    try:
        spec = load_spec(exercise)
    except (KeyError, ValueError):  # 'none', 'auto', 'periodic': the id is still a fine title
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
        self.cues = CueBoard()
        self.state_message = ""
        self.last_score: float | None = None

    def update(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, RepCompleted):
                self.reps, self.last_score = e.index, e.score
            elif isinstance(e, HoldProgress):
                self.hold_s, self.hold_target = e.held_s, e.target_s
            elif isinstance(e, HoldCompleted):
                self.hold_s = None
            elif isinstance(e, FormWarning):
                self.cues.offer(e)
            elif isinstance(e, StateChanged):
                self.state_message = e.message

    def draw(self, image: np.ndarray, pose: Pose) -> np.ndarray:
        cue = self.cues.current(pose.timestamp)
        draw_skeleton(image, pose, cue.joints if cue else frozenset())
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
        elif cue is not None:
            draw_label(image, cue.message, (10, h - int(60 * scale)), scale, WARN)
        elif self.state_message:
            draw_label(image, self.state_message, (10, h - int(60 * scale)), scale * 0.9)
        return image


class H264Writer:
    """BGR frames to an H.264 video (yuv420p, MP4 with ``+faststart``) that plays in every browser.

    Encoded by PyAV's bundled FFmpeg (libx264). Odd widths or heights lose their last pixel row/column
    (yuv420p needs even sizes). ``crf``/``preset`` are x264's; the defaults give about the source's size."""

    def __init__(self, path: str | Path, fps: float, crf: int = 26, preset: str = "superfast"):
        self.path, self.fps, self.crf, self.preset = Path(path), fps, crf, preset
        self._container = None
        self._stream = None
        self.frames = 0

    def _open(self, width: int, height: int) -> None:
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        options = {"movflags": "+faststart"} if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else {}
        try:
            self._container = av.open(str(self.path), "w", options=options)
            rate = Fraction(self.fps).limit_denominator(1001) if self.fps > 0 else Fraction(30)
            stream = self._container.add_stream("libx264", rate=rate)
        except (av.FFmpegError, ValueError) as exc:
            raise OSError(f"cannot write video {self.path}: {exc}") from exc
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._stream = stream

    def write(self, image_bgr: np.ndarray) -> None:
        """Encode one frame (frames are shown at ``fps``, one after another)."""
        import av

        h, w = (d - d % 2 for d in image_bgr.shape[:2])
        if self._stream is None:
            self._open(w, h)
        image = image_bgr[: self._stream.height, : self._stream.width]
        yuv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420)  # faster than swscale here
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = self.frames
        self.frames += 1
        self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        """Flush the encoder and finish the file (moves the index to the front: faststart)."""
        if self._container is None:
            return
        try:
            if self._stream is not None:
                self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()
            self._container = self._stream = None


class AnnotatedVideoWriter(BaseSink):
    """Writes frames with the skeleton and counts drawn on them to an H.264 MP4 file (:class:`H264Writer`).
    Run it in a :class:`~formcheck.pipeline.sinks.ThreadedSink` so drawing and encoding leave the frame loop."""

    def __init__(self, path: str | Path, fps: float, exercise: str, model: str = ""):
        self.path = Path(path)
        self.fps = fps
        self.overlay = Overlay(exercise, model)
        self._writer = H264Writer(self.path, fps)

    def __call__(self, result: FrameResult) -> None:
        self.overlay.update(result.events)
        self._writer.write(self.overlay.draw(result.frame.image.copy(), result.pose))

    def close(self) -> None:
        self._writer.close()
