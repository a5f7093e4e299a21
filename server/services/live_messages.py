"""The live WebSocket's client messages, checked before anything is done with them.

Binary landmark packets (on-device mode), little-endian, one per camera frame:

======  =====================  ==============================================================
offset  type                   what
======  =====================  ==============================================================
0       4 bytes ``FCL1``       magic and version
4       float64                the frame's time in seconds (the page's clock, from its start)
12      uint16, uint16         the video's width and height in pixels (for true angles)
16      uint8                  people seen (0: nobody, then the packet ends here)
17      uint8                  reserved (0)
18      float32 * 33 * 5       image landmarks: x, y (0..1 of width / height), z, visibility, presence
678     float32 * 33 * 3       world landmarks in metres
======  =====================  ==============================================================

A packet is 18 bytes (nobody seen) or 1074 bytes. Every number must be finite and in range.
Text messages are JSON objects with a ``type`` (``frame_time``, ``pain``, ``next``, ``stop``).
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.pose.types import Pose

MAGIC = b"FCL1"
HEADER = struct.Struct("<4sdHHBB")
LANDMARK_FLOATS = NUM_LANDMARKS * 5
WORLD_FLOATS = NUM_LANDMARKS * 3
PACKET_BYTES = HEADER.size + 4 * (LANDMARK_FLOATS + WORLD_FLOATS)
EMPTY_PACKET_BYTES = HEADER.size
MAX_SESSION_S = 6 * 3600.0  # a frame time beyond six hours is not a real session
MAX_TEXT_CHARS = 4096
IMAGE_LIMIT = 1.5  # image landmarks may lie a little outside the frame (MediaPipe extrapolates), not far
WORLD_LIMIT_M = 3.0  # world landmarks are metres from the hips' centre


class MessageError(ValueError):
    """A client message that is refused: ``reply`` is the error message to send."""

    def __init__(self, title: str, detail: str, status: int = 422):
        super().__init__(detail)
        self.reply = {"type": "error", "title": title, "status": status, "detail": detail}


def is_landmark_packet(data: bytes) -> bool:
    return data[:4] == MAGIC


def decode_landmarks(data: bytes) -> Pose:
    """The :class:`Pose` of one landmark packet; :class:`MessageError` when it is malformed in any way."""
    if len(data) not in (EMPTY_PACKET_BYTES, PACKET_BYTES) or not is_landmark_packet(data):
        raise MessageError("Bad landmarks", f"A landmark message is {EMPTY_PACKET_BYTES} bytes (nobody seen) or "
                           f"{PACKET_BYTES} bytes starting with {MAGIC.decode()}; this one is {len(data)} bytes.")
    _, t, width, height, people, _ = HEADER.unpack_from(data)
    if not math.isfinite(t) or not 0.0 <= t <= MAX_SESSION_S:
        raise MessageError("Bad frame time", f"A frame time is a number of seconds from 0 to {MAX_SESSION_S:.0f}.")
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise MessageError("Bad landmarks", "The video size must be 16 to 8192 pixels on each side.")
    if people == 0:
        if len(data) != EMPTY_PACKET_BYTES:
            raise MessageError("Bad landmarks", "A packet with nobody seen carries no landmarks.")
        return Pose.empty(t, (width, height))
    if len(data) != PACKET_BYTES or people > 2:
        raise MessageError("Bad landmarks", f"A packet with a person seen is {PACKET_BYTES} bytes (people 1 or 2).")
    values = np.frombuffer(data, "<f4", offset=HEADER.size)
    if not np.isfinite(values).all():
        raise MessageError("Bad landmarks", "Landmarks must be finite numbers (no NaN or infinity).")
    landmarks = values[:LANDMARK_FLOATS].reshape(NUM_LANDMARKS, 5).astype(np.float32)
    world = values[LANDMARK_FLOATS:].reshape(NUM_LANDMARKS, 3).astype(np.float32)
    if (np.abs(landmarks[:, :2] - 0.5) > IMAGE_LIMIT).any() or (np.abs(landmarks[:, 2]) > 10).any():
        raise MessageError("Bad landmarks", "Image landmarks are fractions of the frame (about 0 to 1).")
    if ((landmarks[:, 3:] < 0) | (landmarks[:, 3:] > 1)).any():
        raise MessageError("Bad landmarks", "Visibility and presence are from 0 to 1.")
    if (np.abs(world) > WORLD_LIMIT_M).any():
        raise MessageError("Bad landmarks", f"World landmarks are metres from the hips (at most {WORLD_LIMIT_M:g}).")
    return Pose(landmarks, world, t, (width, height), people=people)


def encode_landmarks(pose: Pose) -> bytes:
    """The packet for a pose (what the page sends; used by tests and the live benchmark)."""
    w, h = pose.image_size
    if not pose.present:
        return HEADER.pack(MAGIC, pose.timestamp, w, h, 0, 0)
    body = np.concatenate([np.asarray(pose.landmarks, "<f4").ravel(), np.asarray(pose.world, "<f4").ravel()])
    return HEADER.pack(MAGIC, pose.timestamp, w, h, min(pose.people, 2), 0) + body.tobytes()


def _finite(value, lo: float, hi: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and lo <= value <= hi else None


def _clean_text(value, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return "".join(c for c in text if c in "\n\t" or (c.isprintable() and c != "\x00"))[:limit]


def parse_text(text: str | None) -> tuple:
    """A text message as ``("frame_time", t)``, ``("pain", rating, location, note)``, ``("next",)`` or
    ``("stop",)``; :class:`MessageError` for anything else (the reply says what was expected)."""
    if text is None or len(text) > MAX_TEXT_CHARS:
        raise MessageError("Bad message", f"Text messages are JSON objects of at most {MAX_TEXT_CHARS} characters.")
    try:
        msg = json.loads(text, parse_constant=lambda name: None)  # NaN / Infinity are not numbers here
    except ValueError:
        msg = None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise MessageError("Bad message", "Text messages must be JSON objects with a 'type'.")
    kind = msg["type"]
    if kind == "frame_time":
        t = _finite(msg.get("t"), 0.0, MAX_SESSION_S)
        if t is None:
            raise MessageError("Bad frame time", f"frame_time needs a finite number of seconds (0 to "
                               f"{MAX_SESSION_S:.0f}) in 't'.")
        return ("frame_time", t)
    if kind == "pain":
        rating = _finite(msg.get("rating"), 0, 10)
        if rating is None:
            raise MessageError("Bad pain rating", "Pain is rated from 0 (none) to 10 (worst).")
        return ("pain", int(rating), _clean_text(msg.get("location"), 120), _clean_text(msg.get("note"), 2000))
    if kind in ("next", "stop"):
        return (kind,)
    raise MessageError("Unknown message", f"Unknown message type {kind[:40]!r} (frame_time, pain, next, stop).")
