"""What a video's container header says (size, frames, rate), read with PyAV without decoding a frame, and the
limits a server checks against it before anything is decoded (pixel bombs: a tiny GIF with an 8000x8000
screen, an 8000x8000 MJPEG AVI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


class ProbeError(ValueError):
    """The file has no readable container header or no video stream."""


@dataclass(frozen=True)
class VideoHeader:
    width: int
    height: int
    frames: int  # as the header says, else estimated from duration x rate (0 when neither is known)
    fps: float  # 0 when unknown
    duration_s: float  # 0 when unknown
    codec: str

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def decoded_bytes(self) -> int:
        """What decoding every frame to 8-bit BGR would produce."""
        return self.pixels * 3 * self.frames


@dataclass(frozen=True)
class VideoLimits:
    max_pixels: int
    max_frames: int
    max_decoded_bytes: int


def read_header(path: str | Path) -> VideoHeader:
    """The first video stream's header; ``ProbeError`` when there is none. Reads only the container's headers
    (and what it indexes), never a decoded picture."""
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.video:
                raise ProbeError("the file has no video stream")
            stream = container.streams.video[0]
            width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = float(container.duration or 0) / av.time_base
            frames = int(stream.frames or 0) or round(duration * fps)
            return VideoHeader(width, height, frames, fps, duration, stream.codec_context.name or "")
    except ProbeError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ProbeError(f"the file cannot be read as a video ({type(exc).__name__})") from None


def limit_problem(header: VideoHeader, limits: VideoLimits) -> str | None:
    """Why a video is refused before decoding it (a sentence for a person), or None when it is within limits
    (a header without a picture size is the caller's to refuse as damaged)."""
    if header.pixels > limits.max_pixels:
        return (f"The video's pictures are {header.width}x{header.height} pixels; the limit is "
                f"{limits.max_pixels / 1e6:.1f} megapixels per picture (e.g. 3840x2160). Export it at a smaller size.")
    if header.frames > limits.max_frames:
        return f"The video has {header.frames} frames; the limit is {limits.max_frames}."
    if header.decoded_bytes > limits.max_decoded_bytes:
        return (f"Analysing the video would decode {header.decoded_bytes / 1e9:.0f} GB of pictures; the limit is "
                f"{limits.max_decoded_bytes / 1e9:.0f} GB. Upload a shorter or smaller video.")
    return None
