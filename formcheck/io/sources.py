"""Frame sources: video files (GIFs too), webcams, image folders; optional real-time pacing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class SourceError(RuntimeError):
    """A source cannot be opened or read; the message is meant for the person using formcheck."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: BGR image, timestamp in seconds from the source (strictly increasing), index.
    ``image`` is None where no sink needs pixels and the poses were estimated elsewhere (parallel analysis)."""

    image: np.ndarray | None
    timestamp: float
    index: int

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.image.shape[:2]
        return (w, h)


class FrameSource:
    """Base class: iterate to get frames. ``fps`` is the nominal rate, ``frame_count`` 0 when unknown."""

    fps: float = 30.0
    frame_count: int = 0
    name: str = "source"
    live: bool = False
    #: set when a source that had been delivering frames stopped early (e.g. a camera was unplugged)
    interrupted: str | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.frame_count and self.fps else 0.0


def _gif_durations(path: Path) -> list[float] | None:
    """Per-frame durations of an animated GIF in seconds (OpenCV ignores them)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib / mediapipe
        return None
    with Image.open(path) as im:
        out = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append(max(im.info.get("duration", 100), 10) / 1000.0)
    return out


class VideoFileSource(FrameSource):
    """Frames of a video file; timestamps come from the container (or the GIF's frame durations)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder; use an image folder source or give a video file")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise SourceError(f"{self.path.name} is not a video that can be read (unknown format or corrupt file)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        self._gif = _gif_durations(self.path) if self.path.suffix.lower() == ".gif" else None
        if self._gif:
            fps = len(self._gif) / sum(self._gif)
            self.frame_count = len(self._gif)
        self.fps = fps if fps and 1 <= fps <= 240 else 30.0
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"{self.path.name} has no video frames (empty, truncated or not a video)")
        self._first = first
        self._t0 = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0  # the first frame's time in the container

    @property
    def seekable(self) -> bool:
        """Can parts of it be read on their own (:meth:`frames` with a start)? Not GIFs (their own timing)."""
        return not self._gif and self.frame_count > 0

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        for frame in self._read(self._cap, self._first, 0, None, -1.0):
            index = frame.index + 1
            yield frame
        if self.frame_count and index < self.frame_count * 0.9 and not self._gif:
            self.interrupted = f"{self.name} ended after {index} of {self.frame_count} frames (truncated file?)"

    def frames(self, start: int, stop: int | None = None, threads: int = 0) -> Iterator[Frame]:
        """Frames ``start`` up to ``stop`` (exclusive; None: to the end) from a capture of their own, with the
        same indexes and timestamps as iterating the whole video. The seek is checked against the frame rate;
        when the container's timestamps disagree (variable frame rate), the frames before ``start`` are decoded
        and dropped instead, which is exact. ``threads``: the decoder's threads (0: FFmpeg's choice, one per
        core)."""
        cap = self._capture(threads)
        try:
            if start > 0:
                cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            ok, image = cap.read()
            off = abs(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 - self._t0 - start / self.fps)
            if start > 0 and ok and off > 0.5 / self.fps:
                cap.release()
                cap = self._capture(threads)
                for _ in range(start):
                    if not cap.grab():
                        return
                ok, image = cap.read()
            if ok and image is not None:
                yield from self._read(cap, image, start, stop, -1.0)
        finally:
            cap.release()

    def _capture(self, threads: int) -> cv2.VideoCapture:
        if threads > 0:
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
            if cap.isOpened():
                return cap
        return cv2.VideoCapture(str(self.path))

    def _read(self, cap, image, index: int, stop: int | None, last_t: float) -> Iterator[Frame]:
        t_gif = 0.0
        while image is not None and (stop is None or index < stop):
            if self._gif:
                t = t_gif
                t_gif += self._gif[index] if index < len(self._gif) else 1 / self.fps
            else:
                msec = cap.get(cv2.CAP_PROP_POS_MSEC)
                t = msec / 1000.0 if msec > 0 or index == 0 else index / self.fps
                # Containers sometimes repeat or lack timestamps: fall back to the frame rate.
                if t <= last_t:
                    t = last_t + 1.0 / self.fps
            last_t = t
            yield Frame(image, t, index)
            index += 1
            ok, image = cap.read()
            if not ok:
                image = None

    def close(self) -> None:
        self._cap.release()


class ImageFolderSource(FrameSource):
    """Sorted image files of a folder, played at ``fps``."""

    def __init__(self, folder: str | Path, fps: float = 30.0):
        self.folder = Path(folder)
        self.name = self.folder.name
        self.fps = fps
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"{self.folder} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        self.frame_count = len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        index, unreadable = 0, []
        for path in self.files:
            image = cv2.imread(str(path))
            if image is None:
                unreadable.append(path.name)
                continue
            yield Frame(image, index / self.fps, index)
            index += 1
        if unreadable:
            shown = ", ".join(unreadable[:3]) + (f" and {len(unreadable) - 3} more" if len(unreadable) > 3 else "")
            self.interrupted = (
                f"{len(unreadable)} of {len(self.files)} images could not be read and were skipped: {shown}"
            )


class WebcamSource(FrameSource):
    """A camera by index. Timestamps are wall-clock seconds since opening. Stops cleanly when the camera
    stops delivering frames, setting ``interrupted``."""

    live = True

    def __init__(self, index: int = 0, width: int = 640, height: int = 480, read_timeout_s: float = 2.0):
        self.name = f"camera {index}"
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(f"camera {index} could not be opened (is it connected and free?)")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.read_timeout_s = read_timeout_s

    def __iter__(self) -> Iterator[Frame]:
        start = time.monotonic()
        index, last_ok, last_t = 0, time.monotonic(), -1.0
        while True:
            ok, image = self._cap.read()
            now = time.monotonic()
            if not ok or image is None:
                if now - last_ok > self.read_timeout_s:
                    self.interrupted = f"{self.name} stopped delivering frames"
                    return
                time.sleep(0.01)
                continue
            last_ok = now
            t = max(now - start, last_t + 1e-3)
            last_t = t
            yield Frame(image, t, index)
            index += 1

    def close(self) -> None:
        self._cap.release()


class RealtimeSource(FrameSource):
    """Plays another source at its own timestamps against the wall clock, like a camera.

    When the consumer is too slow, frames whose time has passed are skipped (dropping, not lagging);
    ``dropped`` counts them.
    """

    live = True

    def __init__(self, inner: FrameSource, drop_late: bool = True, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.inner, self.drop_late = inner, drop_late
        self.clock, self.sleep = clock, sleep  # the wall clock (replaceable, so pacing is testable without waiting)
        self.fps, self.frame_count, self.name = inner.fps, inner.frame_count, inner.name
        self.dropped = 0

    def __iter__(self) -> Iterator[Frame]:
        start = None
        slack = 1.0 / self.fps
        for frame in self.inner:
            now = self.clock()
            if start is None:
                start = now - frame.timestamp
            due = start + frame.timestamp
            if now < due:
                self.sleep(due - now)
            elif self.drop_late and now - due > slack:
                self.dropped += 1
                continue
            yield frame
        self.interrupted = self.inner.interrupted

    def close(self) -> None:
        self.inner.close()


def open_source(spec: str | int | Path, realtime: bool = False) -> FrameSource:
    """Open a video path, image folder or camera index ("0", 0) as a frame source."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return WebcamSource(int(spec))
    path = Path(spec)
    source: FrameSource = ImageFolderSource(path) if path.is_dir() else VideoFileSource(path)
    return RealtimeSource(source) if realtime else source
