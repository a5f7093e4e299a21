"""The annotated video: H.264 (yuv420p) in MP4 with the index first, so browsers can play it while it loads."""

from __future__ import annotations

import av
import numpy as np
import pytest
from synthetic_poses import standing

from formcheck.io.draw import draw_skeleton
from formcheck.io.sources import Frame
from formcheck.io.video import AnnotatedVideoWriter, H264Writer
from formcheck.pipeline.results import FrameResult


def _moving_square(i: int, size=(161, 121)) -> np.ndarray:
    w, h = size
    image = np.full((h, w, 3), 90, np.uint8)
    x = 5 + 4 * i
    image[40:80, x : x + 40] = (40, 200, 250)
    return image


def _atoms(path) -> list[bytes]:
    """The MP4's top-level atom types in file order."""
    data, out, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        out.append(data[pos + 4 : pos + 8])
        if size < 8:
            break
        pos += size
    return out


def test_writer_makes_h264_yuv420p_mp4_with_faststart(tmp_path):
    path = tmp_path / "out.mp4"
    writer = H264Writer(path, fps=25.0)
    for i in range(20):
        writer.write(_moving_square(i))
    writer.close()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)  # odd sizes made even
        assert stream.average_rate == 25
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == 20
    # the content survives encoding: the square has moved 40 px in 10 frames
    assert frames[10][60, 5 + 40 + 10, 2] > 200 and frames[0][60, 5 + 40 + 10, 2] < 150
    atoms = _atoms(path)
    assert atoms.index(b"moov") < atoms.index(b"mdat")  # faststart: the index comes first


def test_annotated_writer_draws_every_frame(tmp_path):
    path = tmp_path / "annotated.mp4"
    with AnnotatedVideoWriter(path, 30.0, "squat") as writer:
        for i in range(10):
            pose = standing(i / 30, knee_deg=170 - i)
            writer(FrameResult(Frame(np.zeros((200, 200, 3), np.uint8), i / 30, i), pose, []))
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 10


def test_unwritable_path_is_an_oserror(tmp_path):
    (tmp_path / "file").write_text("x")
    writer = H264Writer(tmp_path / "file" / "out.mp4", fps=30)
    with pytest.raises(OSError):
        writer.write(_moving_square(0))


def test_skeleton_shows_on_a_white_background():
    """The light bones get a dark outline: on white, the drawn skeleton is still seen."""
    white = np.full((1000, 1000, 3), 255, np.uint8)
    drawn = draw_skeleton(white.copy(), standing(0.0))
    dark = (drawn.max(axis=2) < 80).sum()
    assert dark > 2000  # the outline around bones and joints
