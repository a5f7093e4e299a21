"""Video storage: the data folder and S3-compatible object storage (a real S3-speaking server, moto in server
mode on a free loopback port), behind one interface; leftovers swept."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from distutil import moto_s3

from formcheck.bench.server import free_port
from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Store, User, utcnow
from server.jobs.cleanup import sweep
from server.storage.videos import (
    UPLOADS,
    VIDEOS,
    LocalVideoStore,
    S3VideoStore,
    StorageError,
    check_name,
    new_name,
    sweep_partial,
    temp_path,
)


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server in a thread on 127.0.0.1 (its own port), with throw-away credentials for it."""
    with moto_s3() as (endpoint, _):
        yield endpoint


def make_bucket(endpoint: str) -> str:
    import boto3

    bucket = f"fc-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def videos(request, tmp_path):
    if request.param == "local":
        return LocalVideoStore(tmp_path / "data")
    endpoint = request.getfixturevalue("s3_server")
    return S3VideoStore(f"s3://{make_bucket(endpoint)}/clinic-a", tmp_path / "data", endpoint)


def test_put_read_list_delete(videos, tmp_path):
    name = new_name("video")
    local = tmp_path / "spool.bin"
    local.write_bytes(b"\x00\x01video bytes" * 1000)
    assert not videos.exists(UPLOADS, name)
    before = time.time()
    videos.put(UPLOADS, name, local)
    assert not local.exists()  # moved into storage
    assert videos.exists(UPLOADS, name) and not videos.exists(VIDEOS, name)
    with videos.local_copy(UPLOADS, name) as copy:
        assert copy.read_bytes() == b"\x00\x01video bytes" * 1000
    assert b"".join(videos.iter_bytes(UPLOADS, name, chunk=4096)) == b"\x00\x01video bytes" * 1000
    listed = dict(videos.names(UPLOADS))
    # the listed time is the stored time: between before the put and now (S3 keeps whole seconds)
    assert list(listed) == [name] and before - 1 <= listed[name] <= time.time() + 1
    videos.delete(UPLOADS, name)
    videos.delete(UPLOADS, name)  # already gone: nothing happens
    assert not videos.exists(UPLOADS, name) and dict(videos.names(UPLOADS)) == {}
    with pytest.raises(FileNotFoundError), videos.local_copy(UPLOADS, name):
        pass


def test_s3_objects_sit_under_the_prefix_and_downloads_leave_no_file(s3_server, tmp_path):
    import boto3

    bucket = make_bucket(s3_server)
    store = S3VideoStore(f"s3://{bucket}/clinic-a/", tmp_path / "data", s3_server)
    name = new_name("webm")
    part = temp_path(tmp_path / "data", "webm")
    part.write_bytes(b"webm")
    store.put(VIDEOS, name, part)
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"clinic-a/videos/{name}"]
    with store.local_copy(VIDEOS, name) as copy:
        assert copy.parent == tmp_path / "data" / "tmp"
    assert list((tmp_path / "data" / "tmp").iterdir()) == []


def test_unreachable_object_storage_is_a_storage_error(tmp_path):
    store = S3VideoStore("s3://nobucket/x", tmp_path, f"http://127.0.0.1:{free_port()}")
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError):
        store.exists(UPLOADS, new_name("video"))


@pytest.mark.parametrize("name", ["../secret_key", "a.video", "x" * 32 + ".exe", "/etc/passwd", ""])
def test_only_server_made_names_are_accepted(name, tmp_path):
    with pytest.raises(ValueError):
        check_name(UPLOADS, name)
    with pytest.raises(ValueError):
        LocalVideoStore(tmp_path).exists(UPLOADS, name)
    with pytest.raises(ValueError):
        check_name("secrets", new_name("video"))


def test_partial_files_of_dead_processes_are_swept(tmp_path):
    import subprocess
    import sys

    mine = temp_path(tmp_path, "webm")
    mine.write_bytes(b"being written")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    theirs = mine.with_name(f"{int(dead.stdout)}-{uuid.uuid4().hex}.part.webm")
    theirs.write_bytes(b"cut short by a kill -9")
    assert sweep_partial(tmp_path) == [theirs.name]
    assert mine.exists() and not theirs.exists()


def _job(db, patient_id: int, upload: str, status: str) -> Job:
    row = ExerciseSession(patient_id=patient_id, kind="upload", status=status)
    db.add(row)
    db.flush()
    job = Job(session_id=row.id, upload_file=upload, exercise="squat", status=status)
    db.add(job)
    db.flush()
    return job


def test_sweep_removes_orphans_and_expired_uploads_only(videos, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", upload_retention_days=7)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")

    def stored(kind: str, suffix: str) -> str:
        name = new_name(suffix)
        local = tmp_path / name
        local.write_bytes(b"x")
        videos.put(kind, name, local)
        return name

    kept_video, orphan_video = stored(VIDEOS, "webm"), stored(VIDEOS, "webm")
    retryable, expired, done_kept, orphan_upload = (stored(UPLOADS, "video") for _ in range(4))
    with store.session() as db, db.begin():
        patient = User(username="p", password_hash="x", role="patient")
        db.add(patient)
        db.flush()
        _job(db, patient.id, retryable, "failed")
        old = _job(db, patient.id, expired, "cancelled")
        _job(db, patient.id, done_kept, "done")
        with_video = _job(db, patient.id, new_name("video"), "done")
        db.get(ExerciseSession, with_video.session_id).video_file = kept_video
    with store.session() as db, db.begin():  # the cancelled job ended 8 days ago
        db.get(Job, old.id).updated_at = utcnow() - timedelta(days=8)

    swept = sweep(store, videos, settings, grace_s=0)
    assert swept.orphan_videos == [orphan_video] and swept.orphan_uploads == [orphan_upload]
    assert swept.expired_uploads == [expired]
    assert {n for n, _ in videos.names(VIDEOS)} == {kept_video}
    assert {n for n, _ in videos.names(UPLOADS)} == {retryable, done_kept}
    # within the grace period an unreferenced file may be a worker's about to be committed: kept
    fresh = stored(VIDEOS, "webm")
    assert sweep(store, videos, settings).orphan_videos == [] and videos.exists(VIDEOS, fresh)
    store.close()
