"""End to end: the real `formcheck analyze` command, the real pose model, real video."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.io.sources import VideoFileSource
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

pytestmark = pytest.mark.slow
REPORT_KEYS = {"exercise", "rep_count", "reps", "holds", "warnings", "frames", "frames_with_person", "duration_s"}


def formcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True, timeout=600)


def test_analyze_auto_writes_series_summary_and_the_recognised_exercise(tmp_path, sample_squat):
    """The default exercise ``auto``: the report says what was recognised and how sure, and has its curves."""
    out = tmp_path / "r.json"
    proc = formcheck("analyze", str(sample_squat), "--exercise", "auto", "--json", str(out))  # default model: full
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    rec = report["recognition"]
    assert rec["method"] == "recognised" and 0.0 < rec["confidence"] <= 1.0 and rec["candidates"]
    assert report["exercise"] == rec["exercise"] == "squat"
    series = report["series"][report["exercise"]]
    assert len(series["t"]) > 50 and series["t"][-1] > 0.9 * report["duration_s"]  # the whole clip
    assert any(k not in ("t", "target_band") and len(v) == len(series["t"]) for k, v in series.items())
    summary = report["summary"]
    assert summary["reps"] == report["rep_count"] == 2
    assert summary["by_exercise"][report["exercise"]]["reps"] == 2
    assert {r["exercise"] for r in report["reps"]} == {report["exercise"]}


def test_landmarks_are_on_the_person(sample_squat):
    """The hips of the squatting lifter sit in the middle of the portrait frame, the head above them."""
    with PoseEstimator.create(PoseEstimatorOptions(model="full")) as est, VideoFileSource(sample_squat) as src:
        poses = [est.detect_for_video(f.image, f.timestamp) for f in src if f.index < 60]
    assert all(p.present for p in poses)
    hips = np.array([p.landmarks[23:25, :2].mean(0) for p in poses])
    nose = np.array([p.landmarks[0, :2] for p in poses])
    assert np.all((hips[:, 0] > 0.3) & (hips[:, 0] < 0.7) & (hips[:, 1] > 0.45) & (hips[:, 1] < 0.75))
    assert np.all(nose[:, 1] < hips[:, 1] - 0.1)
    world = np.array([p.world[[23, 24]].mean(0) for p in poses])
    assert np.abs(world).max() < 0.15  # world landmarks are centred between the hips, in metres


def test_video_with_nobody_gives_clear_result(tmp_path):
    path = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(30):
        writer.write(rng.integers(90, 110, (240, 320, 3), dtype=np.uint8))
    writer.release()
    out = tmp_path / "r.json"
    proc = formcheck("analyze", str(path), "--exercise", "squat", "--model", "lite", "--json", str(out))
    assert proc.returncode == 3
    assert "nobody" in proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["frames"] == 30 and report["frames_with_person"] == 0
    assert "Traceback" not in proc.stderr


def test_two_people_in_frame_are_flagged(tmp_path, sample_squat):
    path = tmp_path / "two.mp4"
    writer = None
    with VideoFileSource(sample_squat) as src:
        for f in src:
            if f.index >= 90:
                break
            small = cv2.resize(f.image, (304, 540))
            both = np.hstack([small, cv2.flip(small, 1)])
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, both.shape[1::-1])
            writer.write(both)
    writer.release()
    out = tmp_path / "r.json"
    proc = formcheck("analyze", str(path), "--exercise", "squat", "--model", "full", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["frames_with_several_people"] > 0.5 * report["frames"]
    assert any("more than one person" in n for n in report["notices"])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: (d / "notes.mp4").write_text("hello") and d / "notes.mp4", "not a video"),
    ],
)
def test_cli_bad_input_is_a_clear_error(tmp_path, make, expected):
    path: Path = make(tmp_path)
    proc = formcheck("analyze", str(path), "--exercise", "squat")
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shared_clips_run_without_crashing(shared_data, tmp_path):
    """A lying-down clip and a GIF from the shared data go through the whole pipeline."""
    for clip in ("physiobody/legraise.mp4", "chloe/bird-dog.gif"):
        out = tmp_path / (Path(clip).stem + ".json")
        proc = formcheck("analyze", str(shared_data / "videos" / clip), "--model", "lite", "--json", str(out))
        assert proc.returncode == 0, proc.stderr
        report = json.loads(out.read_text())
        assert report["frames_with_person"] > 0.8 * report["frames"]
