"""The job layer's one interface: the in-process pool by default, Celery when a broker URL is set; a broker that
cannot be reached fails the job with a retryable message; cancel stops a queued job at once; several API
processes are refused without the shared services they need."""

from __future__ import annotations

import pytest

from formcheck.bench.server import free_port
from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Store, User
from server.jobs.queue import UNREACHABLE, CeleryJobRunner
from server.jobs.runner import LocalJobRunner, make_job_runner


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield store
    store.close()


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


def dead_broker(tmp_path) -> Settings:
    """Settings whose broker is a Redis URL nothing listens on."""
    return Settings(data_dir=tmp_path, broker_url=f"redis://127.0.0.1:{free_port()}/0", job_workers=0)


def test_the_runner_follows_the_settings(store, tmp_path):
    local = make_job_runner(store, Settings(data_dir=tmp_path, job_workers=0))
    assert isinstance(local, LocalJobRunner)
    local.shutdown()
    celery = make_job_runner(store, dead_broker(tmp_path))  # made without connecting
    assert isinstance(celery, CeleryJobRunner)
    assert celery.app.conf.task_acks_late and celery.app.conf.worker_prefetch_multiplier == 1
    assert celery.app.conf.task_reject_on_worker_lost
    assert celery.app.conf.broker_transport_options["visibility_timeout"] == 3600
    celery.shutdown()


def test_an_unreachable_broker_fails_the_job_with_a_retryable_message(store, tmp_path):
    runner = CeleryJobRunner(store, dead_broker(tmp_path))
    job_id = queued_job(store)
    runner.submit(job_id)
    with store.session() as db:
        job = db.get(Job, job_id)
        row = db.get(ExerciseSession, job.session_id)
        assert (job.status, job.error, row.status) == ("failed", UNREACHABLE, "failed")
        assert job.task_id and "retry" in job.error
    runner.shutdown()


def test_cancel_of_a_queued_job_is_immediate(store, tmp_path):
    runner = CeleryJobRunner(store, dead_broker(tmp_path))
    job_id = queued_job(store)
    runner.cancel(job_id)  # the revoke cannot reach the broker: the database flag is what counts
    with store.session() as db:
        job = db.get(Job, job_id)
        assert job.status == "cancelled" and job.cancel_requested
        assert db.get(ExerciseSession, job.session_id).status == "cancelled"
    runner.shutdown()


def test_several_api_processes_need_a_broker_and_redis(tmp_path, monkeypatch, capfd):
    import typer

    from formcheck.cli.server import serve

    for name in ("FORMCHECK_BROKER_URL", "FORMCHECK_REDIS_URL", "FORMCHECK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path))
    with pytest.raises(typer.Exit) as stopped:
        serve(host=None, port=free_port(), workers=None, processes=2, db=None)
    assert stopped.value.exit_code == 2
    err = capfd.readouterr().err
    assert "FORMCHECK_BROKER_URL" in err and "FORMCHECK_REDIS_URL" in err


def test_a_worker_needs_a_broker(tmp_path, monkeypatch, capfd):
    import typer

    from formcheck.cli.server import worker

    monkeypatch.delenv("FORMCHECK_BROKER_URL", raising=False)
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path))
    with pytest.raises(typer.Exit) as stopped:
        worker(concurrency=1, db=None, loglevel="INFO")
    assert stopped.value.exit_code == 2 and "FORMCHECK_BROKER_URL" in capfd.readouterr().err
