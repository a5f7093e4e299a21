"""The job layer: one small interface (submit, cancel, retry, resume, shutdown) over a worker pool.

Job state lives in the database (``jobs`` table), so a restarted server resumes the jobs a killed one had
(or fails them cleanly after too many attempts, keeping the upload so they can be retried). The pool runs
:func:`server.jobs.worker.analyse_upload` in worker processes sized to the machine's cores;
:class:`server.jobs.queue.CeleryJobRunner` implements the same :class:`JobRunner` interface with Celery workers
running that same function (``broker_url`` set). :func:`make_job_runner` picks one from the settings.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from sqlalchemy import select

from formcheck.storage.database import ExerciseSession, Job, Store
from server.core.settings import Settings
from server.jobs.worker import analyse_upload

log = logging.getLogger("formcheck.jobs")
ACTIVE = ("queued", "running")


class JobRunner(Protocol):
    def submit(self, job_id: int) -> None: ...
    def cancel(self, job_id: int) -> None: ...
    def resume(self) -> list[int]: ...
    def shutdown(self) -> None: ...


def make_job_runner(store: Store, settings: Settings) -> JobRunner:
    """Celery workers when ``broker_url`` is set, else the in-process pool (the single-machine default)."""
    if settings.broker_url:
        from server.jobs.queue import CeleryJobRunner

        return CeleryJobRunner(store, settings)
    return LocalJobRunner(store, settings)


def _child_init(settings_json: str | None = None) -> None:
    """In each worker process: take the server's settings (exercise folder, models folder ... also when they were
    given in code, not in the environment), and exit as soon as the server process is gone (killed), leaving its
    jobs to the restarted server, which resumes them from the database."""
    os.environ["FORMCHECK_WORKER_CHILD"] = "1"
    if settings_json is not None:
        from server.jobs import worker

        worker.use_settings(Settings.model_validate_json(settings_json))
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class LocalJobRunner:
    """Runs jobs in a process pool inside the server (``workers`` processes; 0 = one background thread)."""

    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings
        self.workers = settings.job_workers
        self._lock = threading.Lock()
        self._futures: dict[int, Future] = {}
        self._stopping = False
        if self.workers <= 0:  # jobs run in this process: they take these settings
            from server.jobs import worker

            worker.use_settings(settings)
        self._executor = self._make_executor()

    def _make_executor(self) -> Executor:
        if self.workers <= 0:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init,
            initargs=(self.settings.model_dump_json(),),
        )

    def submit(self, job_id: int) -> None:
        """Queue a job whose row is ``queued``."""
        args = (job_id, self.store.url, str(self.settings.data_dir), self.settings.model)
        with self._lock:
            try:
                future = self._executor.submit(analyse_upload, *args)
            except BrokenProcessPool:  # a worker died (e.g. a crash in native code): start a fresh pool
                self._executor = self._make_executor()
                future = self._executor.submit(analyse_upload, *args)
            self._futures[job_id] = future
        future.add_done_callback(lambda f, j=job_id: self._done(j, f))

    def _done(self, job_id: int, future: Future) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if future.cancelled() or self._stopping:  # a stop re-queues its jobs (see shutdown)
            return
        exc = future.exception()
        if exc is None:
            return
        log.error("job %s: worker failed: %r", job_id, exc)
        if not isinstance(exc, BrokenProcessPool):
            self._mark(job_id, "failed", "The analysis worker stopped unexpectedly; retry the job.")
            return
        # A worker process died (e.g. a crash in native code): every job of that pool lands here. Start a
        # fresh pool and queue the job again, unless it has been tried too often (then it may be the cause).
        with self._lock:
            if getattr(self._executor, "_broken", False):
                self._executor = self._make_executor()
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id)
            again = job is not None and job.status in ACTIVE and job.attempts < self.settings.job_max_attempts
            if again:
                job.status = "queued"
        if again:
            self.submit(job_id)
        else:
            self._mark(job_id, "failed", "The analysis worker crashed on this video; retry the job or try another.")

    def _mark(self, job_id: int, status: str, error: str | None) -> None:
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id)
            if job is None or job.status not in ACTIVE:
                return
            job.status, job.error = status, error
            row = db.get(ExerciseSession, job.session_id)
            if row is not None:
                row.status, row.error = ("cancelled" if status == "cancelled" else "failed"), error

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop: a queued job never starts, a running one stops at its next progress check."""
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id)
            if job is None or job.status not in ACTIVE:
                return
            job.cancel_requested = True
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None and future.cancel():
            self._mark(job_id, "cancelled", "The analysis was cancelled.")

    def resume(self) -> list[int]:
        """At start: remove leftovers (partial videos, orphans, expired uploads), re-queue jobs a stopped server
        left queued or running; fail those tried too often."""
        from server.jobs.cleanup import sweep
        from server.storage.videos import video_store

        try:
            sweep(self.store, video_store(self.settings), self.settings)
        except Exception:  # storage unreachable: the next start cleans up; jobs must not wait for it
            log.exception("could not remove leftovers")
        resumed = []
        with self.store.session() as db, db.begin():
            for job in db.scalars(select(Job).where(Job.status.in_(ACTIVE)).order_by(Job.id)):
                row = db.get(ExerciseSession, job.session_id)
                if job.cancel_requested:
                    job.status, job.error = "cancelled", "The analysis was cancelled."
                    if row is not None:
                        row.status = "cancelled"
                elif job.attempts >= self.settings.job_max_attempts:
                    job.status = "failed"
                    job.error = (
                        f"The analysis was interrupted {job.attempts} times (server stopped); "
                        "the upload is kept: retry the job."
                    )
                    if row is not None:
                        row.status, row.error = "failed", job.error
                else:
                    job.status = "queued"
                    if row is not None:
                        row.status = "queued"
                    resumed.append(job.id)
        for job_id in resumed:
            self.submit(job_id)
        if resumed:
            log.info("resumed analysis jobs %s", resumed)
        return resumed

    def shutdown(self) -> None:
        """Stop at once: worker processes end, and jobs they had go back to the queue for the next start
        (without counting the interrupted attempt)."""
        self._stopping = True
        processes = list((getattr(self._executor, "_processes", None) or {}).values())
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not processes:
            return  # inline (thread) jobs cannot be stopped: they finish and record their result
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(5)
        with self.store.session() as db, db.begin():
            for job in db.scalars(select(Job).where(Job.status == "running")):
                job.status, job.attempts = "queued", max(0, job.attempts - 1)
                row = db.get(ExerciseSession, job.session_id)
                if row is not None:
                    row.status = "queued"
