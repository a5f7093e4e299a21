"""Video-level check of the mirrored derivation: a horizontally flipped clip, run through the real pose model
and the engine, gives the ground-truth count of the original (../shared/data/videos/ground_truth.csv)."""

from pathlib import Path

import cv2
import pytest

from formcheck.evaluation.clips import ClipTruth, evaluate_stream, read_ground_truth, video_stream

CLIPS = ["physiobody/legraise.mp4", "keraal/cacheTete/Correct0.avi", "tayyab/pushup4.mp4"]


def flip_video(src: Path, dst: Path) -> int:
    """Write ``src`` flipped left-right to ``dst`` (same frame rate); returns the number of frames."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    writer, n = None, 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writer.write(cv2.flip(frame, 1))
        n += 1
    cap.release()
    if writer is not None:
        writer.release()
    return n


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS)
def test_flipped_video_gives_the_same_count(clip, shared_data, tmp_path):
    videos = shared_data / "videos"
    truth: ClipTruth = next(t for t in read_ground_truth(videos) if t.clip == clip)
    flipped = tmp_path / (Path(clip).stem + "_flipped.mp4")
    assert flip_video(videos / clip, flipped) > 50
    result = evaluate_stream(truth, video_stream(flipped))
    assert not result.error
    assert result.within, f"flipped {clip}: {result.got} repetitions, expected {truth.reps}"
    assert result.holds_within == len(truth.holds)
