"""Exactly-once results: each attempt claims a job with a token and a lease; only the current holder writes the
session, a re-delivered job waits while a live lease holds it, a job whose workers died too often fails with the
reason (upload kept, retryable). On a real SQLite file, with results from the real engine over synthetic poses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from synthetic_poses import reps_trace, standing

from formcheck.core.settings import Settings
from formcheck.engine import create_analyzer
from formcheck.pipeline.loop import replay
from formcheck.storage.database import ExerciseSession, Job, Rep, Store, User, utcnow
from server.jobs.worker import _claim, _complete, _Progress


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", job_max_attempts=2, job_lease_s=30)


def queued_job(store: Store) -> int:
    with store.session() as db, db.begin():
        patient = User(username="p", password_hash="x", role="patient")
        db.add(patient)
        db.flush()
        row = ExerciseSession(patient_id=patient.id, kind="upload", status="queued")
        db.add(row)
        db.flush()
        job = Job(session_id=row.id, upload_file="0" * 32 + ".video", exercise="squat", status="queued")
        db.add(job)
        db.flush()
        return job.id


def three_squats():
    poses = [standing(i / 30, k) for i, k in enumerate(reps_trace(175, 80, 3))]
    return replay(poses, create_analyzer("squat"), model="lite", source="synthetic.mp4")


def expire_lease(store: Store, job_id: int) -> None:
    with store.session() as db, db.begin():
        db.get(Job, job_id).lease_until = utcnow() - timedelta(seconds=1)


def reps(store: Store) -> int:
    with store.session() as db:
        return db.scalar(select(func.count()).select_from(Rep))


def test_a_live_lease_keeps_a_redelivered_job_busy_and_only_the_holder_writes(store, settings):
    job_id = queued_job(store)
    first = _claim(store, job_id, "lite", settings)
    assert first.token and _claim(store, job_id, "lite", settings) == "busy"
    expire_lease(store, job_id)  # the first worker was killed: its lease ran out
    second = _claim(store, job_id, "lite", settings)
    assert second.token != first.token
    result = three_squats()
    assert not _complete(store, job_id, first, result, None)  # a late first attempt writes nothing
    assert _complete(store, job_id, second, result, None)
    assert not _complete(store, job_id, second, result, None)  # done: not written twice
    with store.session() as db:
        job, row = db.get(Job, job_id), db.get(ExerciseSession, first.session_id)
        assert (job.status, job.attempts, row.status) == ("done", 2, "completed")
    assert reps(store) == 3
    assert _claim(store, job_id, "lite", settings) == "done"


def test_the_superseded_attempt_stops_at_its_next_progress_check(store, settings):
    job_id = queued_job(store)
    first = _claim(store, job_id, "lite", settings)
    tracker = _Progress(store, job_id, 100, first.token, settings.job_lease_s, interval=0)
    assert not tracker.should_stop()
    with store.session() as db:
        assert db.get(Job, job_id).lease_until is not None
    expire_lease(store, job_id)
    _claim(store, job_id, "lite", settings)
    assert tracker.should_stop() and tracker.superseded


def test_a_job_whose_workers_keep_dying_fails_with_the_reason_and_stays_retryable(store, settings):
    job_id = queued_job(store)
    for _ in range(settings.job_max_attempts):
        assert not isinstance(_claim(store, job_id, "lite", settings), str)
        expire_lease(store, job_id)  # killed mid-job, re-delivered by the broker
    assert _claim(store, job_id, "lite", settings) == "failed"
    with store.session() as db:
        job = db.get(Job, job_id)
        row = db.get(ExerciseSession, job.session_id)
        assert job.status == "failed" and "2 times" in job.error and "retry" in job.error
        assert row.status == "failed" and row.error == job.error


def test_a_cancelled_job_is_never_started(store, settings):
    job_id = queued_job(store)
    with store.session() as db, db.begin():
        db.get(Job, job_id).cancel_requested = True
    assert _claim(store, job_id, "lite", settings) == "cancelled"
    with store.session() as db:
        assert db.get(Job, job_id).attempts == 0


def test_a_job_whose_upload_is_gone_fails_with_a_plain_message(store, tmp_path):
    from server.jobs.worker import analyse_upload

    job_id = queued_job(store)
    assert analyse_upload(job_id, store.url, str(tmp_path / "data"), "lite") == "failed"
    with store.session() as db:
        job = db.get(Job, job_id)
        assert job.error == "The uploaded video is no longer stored; upload it again."
        assert db.get(ExerciseSession, job.session_id).status == "failed"
