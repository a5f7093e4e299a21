"""Uploaded videos: stored under server-made names, checked by actually opening them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2

from formcheck.io.probe import ProbeError, VideoLimits, limit_problem, read_header
from formcheck.io.sources import SourceError, VideoFileSource
from server.api.errors import Problem
from server.core.settings import Settings

CHUNK = 1024 * 1024
MIN_DURATION_S = 1.0


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frames: int
    duration_s: float
    width: int
    height: int


def new_upload_path(settings: Settings) -> Path:
    """A fresh server-made file name in the upload folder (nothing from the user is used)."""
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    return settings.upload_dir / f"{uuid.uuid4().hex}.video"


def too_large(settings: Settings) -> Problem:
    return Problem(413, f"The video is larger than the limit of {settings.max_upload_mb:g} MB.", "Video too large")


def _looks_like_video(head: bytes) -> bool:
    return (
        head[4:8] == b"ftyp"
        or head[:4] == b"\x1a\x45\xdf\xa3"
        or (head[:4] == b"RIFF" and head[8:11] == b"AVI")
        or head[:4] == b"GIF8"
        or head[:3] == b"FLV"
        or head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")
    )


def video_limits(settings: Settings) -> VideoLimits:
    return VideoLimits(settings.max_video_pixels, settings.max_video_frames,
                       int(settings.max_video_decoded_gb * 1e9))


def _damaged_header(frames: int) -> Problem:
    return Problem(
        422,
        f"The video's header is damaged (it claims {frames} frames, the file holds far fewer); "
        "export or save the video again and upload the new file.",
        "Damaged video",
    )


def check_video(path: Path, settings: Settings) -> VideoInfo:
    """Open the file as a video and check it: its header within the limits (picture size, frames, decoded bytes:
    before any frame is decoded), readable, has frames, not truncated, not too long."""
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"BM")) or head[8:12] == b"WEBP":
        raise Problem(
            415, "This file is a picture, not a video; upload a video (MP4, MOV, WebM or AVI).", "Not a video"
        )
    try:
        header = read_header(path)
    except ProbeError:
        header = None  # OpenCV below says whether it is damaged or not a video at all
    if header is not None and header.frames > path.stat().st_size:  # not even a byte per frame: the header lies
        raise _damaged_header(header.frames)
    if header is not None and header.pixels <= 0:
        raise Problem(422, "The video's header gives no picture size (damaged file); upload it again.",
                      "Damaged video")
    if header is not None and (problem := limit_problem(header, video_limits(settings))):
        raise Problem(413, problem, "Video too large")
    try:
        if header is None:
            raise SourceError("no container header")
        source = VideoFileSource(path)
    except SourceError:
        if _looks_like_video(head):
            raise Problem(
                422, "The video file is truncated or damaged and cannot be read; upload it again.", "Damaged video"
            ) from None
        raise Problem(
            415, "This file is not a video that can be read (use MP4, MOV, WebM or AVI).", "Not a video"
        ) from None
    try:
        fps, frames = source.fps, source.frame_count
        if frames <= 0:
            raise Problem(422, "The video has no frames.", "Empty video")
        duration = frames / fps
        cap = source._cap
        if duration > settings.max_video_minutes * 60:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(settings.max_video_minutes * 60 * fps))
            ok, _ = cap.read()
            if not ok:  # the header claims more than the file holds
                raise _damaged_header(frames)
            raise Problem(
                413,
                f"The video lasts {duration / 60:.1f} minutes; the limit is {settings.max_video_minutes:g} minutes.",
                "Video too long",
            )
        if duration < MIN_DURATION_S:
            raise Problem(422, "The video is shorter than a second; there is nothing to analyse.", "Video too short")
        cap.set(cv2.CAP_PROP_POS_FRAMES, max(frames - 2, 0))
        ok, last = cap.read()
        if not ok or last is None or cap.get(cv2.CAP_PROP_POS_FRAMES) < frames - 2:  # landed short: truncated
            raise Problem(422, "The video ends early (truncated file); upload it again.", "Damaged video")
        h, w = source._first.shape[:2]
        return VideoInfo(fps=fps, frames=frames, duration_s=duration, width=w, height=h)
    finally:
        source.close()


def store_upload(path: Path, settings: Settings) -> None:
    """Move a checked upload into the video storage (the data folder, or object storage for remote workers);
    a 503 problem, the file removed, when the storage cannot be reached."""
    from server.storage.videos import UPLOADS, StorageError, video_store

    try:
        video_store(settings).put(UPLOADS, path.name, path)
    except StorageError:
        path.unlink(missing_ok=True)
        raise Problem(503, "The video storage cannot be reached; upload the video again later.",
                      "Storage unavailable") from None
