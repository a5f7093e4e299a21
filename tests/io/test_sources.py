"""Sources on real files the tests make: good video, GIF, image folder, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from formcheck.io.sources import (
    ImageFolderSource,
    RealtimeSource,
    SourceError,
    VideoFileSource,
    open_source,
)


def write_video(path: Path, frames: int = 30, size=(160, 120), fps: float = 30.0) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(frames):
        img = np.full((h, w, 3), (i * 8) % 255, np.uint8)
        cv2.circle(img, (10 + i * 3 % (w - 20), h // 2), 8, (0, 0, 255), -1)
        writer.write(img)
    writer.release()
    return path


def test_video_timestamps_increase(tmp_path):
    src = VideoFileSource(write_video(tmp_path / "a.mp4", 45))
    frames = list(src)
    assert len(frames) == 45
    ts = [f.timestamp for f in frames]
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False))
    assert ts[-1] == pytest.approx(44 / 30, abs=0.02)


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        VideoFileSource(tmp_path / "nope.mp4")


def test_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is a text file, not a video\n" * 100)
    with pytest.raises(SourceError, match="not a video|no video frames"):
        VideoFileSource(p)


def test_zero_frame_video(tmp_path):
    p = tmp_path / "empty.mp4"
    writer = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    writer.release()
    with pytest.raises(SourceError):
        VideoFileSource(p)


def test_truncated_video_reports_interruption(tmp_path):
    full = write_video(tmp_path / "full.avi", 90)
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 3])
    try:
        src = VideoFileSource(cut)
    except SourceError as exc:  # a container cut before its first frame is also a clear error
        assert "cut.avi" in str(exc)
        return
    frames = list(src)
    assert 0 < len(frames) < 90


def test_gif_uses_frame_durations(tmp_path):
    p = tmp_path / "anim.gif"
    imgs = [Image.fromarray(np.full((40, 40, 3), i * 40, np.uint8)) for i in range(5)]
    imgs[0].save(p, save_all=True, append_images=imgs[1:], duration=200, loop=0)
    src = VideoFileSource(p)
    ts = [f.timestamp for f in src]
    assert len(ts) == 5
    assert ts[1] == pytest.approx(0.2, abs=0.01)
    assert src.fps == pytest.approx(5.0, abs=0.1)


def test_image_folder(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((20, 20, 3), i * 50, np.uint8))
    (tmp_path / "readme.txt").write_text("ignored")
    src = open_source(tmp_path)
    assert isinstance(src, ImageFolderSource)
    assert [f.index for f in src] == [0, 1, 2]


def test_unreadable_images_are_reported(tmp_path):
    cv2.imwrite(str(tmp_path / "000.png"), np.full((20, 20, 3), 50, np.uint8))
    (tmp_path / "001.png").write_bytes(b"not really a png")
    src = ImageFolderSource(tmp_path)
    assert [f.index for f in src] == [0]
    assert "1 of 2 images could not be read" in src.interrupted and "001.png" in src.interrupted


def test_empty_image_folder(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path)


class FakeClock:
    """A wall clock that moves only when the source sleeps or the test says time passed."""

    def __init__(self):
        self.now, self.slept = 100.0, 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_realtime_paces_and_drops_when_slow(tmp_path):
    path = write_video(tmp_path / "rt.mp4", 30, fps=30.0)
    clock = FakeClock()
    fast = RealtimeSource(VideoFileSource(path), clock=clock, sleep=clock.sleep)
    frames = list(fast)
    assert len(frames) == 30 and fast.dropped == 0
    assert clock.slept == pytest.approx(frames[-1].timestamp, abs=1e-6)  # waited for each frame's own time
    clock = FakeClock()
    slow = RealtimeSource(VideoFileSource(path), clock=clock, sleep=clock.sleep)
    got = 0
    for _ in slow:
        got += 1
        clock.now += 0.1  # a consumer at 10 fps
    assert got + slow.dropped == 30 and slow.dropped >= 15  # about two of every three frames were late
    assert clock.slept < 0.1  # never waited: frames were already due
