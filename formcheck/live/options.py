"""What ``formcheck live`` was asked to do, what it returns, and its one error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from formcheck.io.sources import FrameSource


class LiveError(RuntimeError):
    """A problem starting the live session, explained for the person."""


@dataclass
class LiveOptions:
    """What ``formcheck live`` was asked to do."""

    source: str | int | FrameSource = 0  # a path, a camera index, or an opened source
    realtime: bool = False
    exercise: str | None = None
    programme: str | None = None
    model: str = "full"
    save_landmarks: bool = False
    mute: bool = False
    beeps: bool = True
    db_url: str | None = None
    screenshot_dir: Path | None = None
    screenshot_every_s: float = 1.0
    auto_keys: list[tuple[float, str]] = field(default_factory=list)
    intro_s: float = 8.0
    summary_s: float = 30.0
    window_size: tuple[int, int] = (1280, 720)
    mirror: bool | None = None  # default: mirror cameras, not videos
    show_window: bool = True
    patient_id: int | None = None


@dataclass
class LiveResult:
    session_id: int | None
    status: str
    report: dict
    frames_shown: int = 0
    frames_dropped: int = 0
    fps: float = 0.0
    landmarks_file: str | None = None


def parse_auto_keys(text: str) -> list[tuple[float, str]]:
    """``"5:n,12.5:p,13:7,14:enter"`` -> [(5.0, "n"), ...] (seconds of session time : key)."""
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        when, sep, key = part.partition(":")
        try:
            seconds = float(when)
        except ValueError:
            seconds = -1
        if not sep or seconds < 0 or not key:
            raise LiveError(f"--auto-keys: {part!r} should look like SECONDS:KEY, e.g. 5:n or 12.5:space")
        keys.append((seconds, key.strip().lower()))
    return keys
