"""Durable landmark recording (``ChunkedPoseWriter``): chunks on disk as it goes, readable at any time with
``PoseStream.load``; and a real ``formcheck live --save-landmarks`` killed mid-way keeps what it recorded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from synthetic_poses import standing

from formcheck.io.recording import ChunkedPoseWriter, PoseStream, chunk_folder

REPO = Path(__file__).parents[2]
CLIP = REPO / "samples" / "squat_side.mp4"


def _poses(seconds: float, fps: float = 30.0):
    return [standing(i / fps, knee_deg=170 - i % 30) for i in range(int(seconds * fps))]


def test_chunks_are_readable_before_close_and_joined_after(tmp_path):
    path = tmp_path / "landmarks" / "session_7.npz"
    writer = ChunkedPoseWriter(path, {"source": "test"}, every_s=1.0)
    poses = _poses(3.5)
    for pose in poses:
        writer.add(pose)
    writer.flush()
    chunks = sorted(chunk_folder(path).glob("*.npz"))
    assert len(chunks) >= 3 and not path.exists()
    (chunk_folder(path) / "999999.npz.tmp").write_bytes(b"half a chunk")  # a write cut short by a kill
    so_far = PoseStream.load(path)
    assert len(so_far) == len(poses)
    assert np.all(np.diff(so_far.timestamps) > 0)
    np.testing.assert_allclose(so_far.landmarks[-1], poses[-1].landmarks, atol=1e-6)
    assert so_far.meta["source"] == "test"

    writer.add(standing(3.6))
    assert writer.close() == path
    assert path.exists() and not chunk_folder(path).exists()
    joined = PoseStream.load(path)
    assert len(joined) == len(poses) + 1
    assert joined.timestamps[-1] == pytest.approx(3.6)


def test_unclosed_writer_keeps_the_chunks_written(tmp_path):
    path = tmp_path / "s.npz"
    writer = ChunkedPoseWriter(path, every_s=2.0)
    for pose in _poses(5.0):
        writer.add(pose)
    writer._worker.flush()  # what a kill leaves: written chunks, the last poses still in memory
    recorded = PoseStream.load(path)
    assert 2 * 30 <= len(recorded) < 5 * 30


def test_nothing_recorded_leaves_nothing(tmp_path):
    path = tmp_path / "s.npz"
    writer = ChunkedPoseWriter(path)
    assert writer.close() is None
    assert not path.exists() and not chunk_folder(path).exists()
    with pytest.raises(ValueError, match="not a readable"):
        PoseStream.load(path)


def _count_reps(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return con.execute("select count(*) from reps").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        con.close()


@pytest.mark.slow
def test_killed_live_session_keeps_its_landmarks(tmp_path):
    from formcheck.pose.models import ModelError, check_model

    try:
        check_model("full")
    except ModelError:
        pytest.skip("pose models are not built (formcheck models build)")
    db = tmp_path / "live.db"
    data = tmp_path / "data"
    env = {**os.environ, "FORMCHECK_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "formcheck", "live", "--source", str(CLIP), "--realtime", "--exercise", "squat",
         "--intro", "0", "--no-window", "--mute", "--save-landmarks", "--db", f"sqlite:///{db}"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    parts = chunk_folder(data / "landmarks" / "session_1.npz")
    try:
        deadline = time.monotonic() + 120
        while len(list(parts.glob("*.npz"))) < 4 or _count_reps(db) < 1:  # 8 s or more of the 20 s clip
            assert proc.poll() is None, "formcheck live ended before it was killed"
            assert time.monotonic() < deadline, "no landmark chunks or reps were written"
            time.sleep(0.2)
        wanted = len(list(parts.glob("*.npz"))) + 2  # the chunks holding the first rep's end are written too
        while len(list(parts.glob("*.npz"))) < wanted and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "formcheck live ended before it was killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(db)
    status, name = con.execute("select status, landmarks_file from sessions").fetchone()
    con.close()
    assert status != "completed" and name == "session_1.npz"
    recorded = PoseStream.load(data / "landmarks" / name)
    assert 6 <= recorded.timestamps[-1] < 20
    assert len(recorded) > 10 * recorded.timestamps[-1]  # most frames, not a few
    assert np.all(np.diff(recorded.timestamps) > 0)
    assert recorded.people.mean() > 0.9
    seen = recorded.landmarks[recorded.people > 0, :, :2]
    assert np.nanmin(seen) > -0.2 and np.nanmax(seen) < 1.2
    assert recorded.meta["model"] == "full"
    rep_ends = [row[0] for row in sqlite3.connect(db).execute("select end_s from reps")]
    assert rep_ends and min(rep_ends) < recorded.timestamps[-1]  # the landmarks cover the reps in the store
