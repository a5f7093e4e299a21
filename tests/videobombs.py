"""Pixel bombs for the upload limits: small files whose headers promise huge pictures."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path


def gif_bomb(path: Path, width: int = 8000, height: int = 8000, frames: int = 20) -> Path:
    """A GIF of a few hundred bytes with a ``width`` x ``height`` screen and ``frames`` 1x1 frames, 0.1 s each."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 0.1 s
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"  # one pixel
    out += b"\x3b"
    path.write_bytes(bytes(out))
    return path


def mjpeg_avi_bomb(path: Path, width: int = 8000, height: int = 8000, frames: int = 2, fps: int = 1) -> Path:
    """An AVI of ``frames`` real ``width`` x ``height`` MJPEG frames (flat grey), made without decoding one."""
    import av
    import cv2
    import numpy as np

    ok, jpeg = cv2.imencode(".jpg", np.full((height, width), 128, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 10])
    assert ok
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mjpeg", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        stream.time_base = Fraction(1, fps)
        for i in range(frames):
            packet = av.Packet(jpeg.tobytes())
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, stream.time_base
            container.mux(packet)
    return path
