"""The job runner of the distributed configuration: jobs go to Celery workers through the broker.

Same interface as :class:`server.jobs.runner.LocalJobRunner`. Job state stays in the database: ``submit`` sends
the job id (and records the task id, to revoke it); ``cancel`` revokes a queued task and sets the job's cancel flag,
which a running task reads between frames; nothing per job lives in this process, so any number of API processes
can run side by side. A broker that cannot be reached fails the job with a message saying to retry it (the upload
is kept), never silently.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Store, utcnow
from server.jobs.celery_app import TASK_NAME, make_celery

log = logging.getLogger("formcheck.jobs")
UNREACHABLE = "The job queue (broker) could not be reached; the upload is kept: retry the job."


class CeleryJobRunner:
    """Queues jobs for ``formcheck worker`` processes on any machine that reaches the broker."""

    def __init__(self, store: Store, settings: Settings):
        self.store, self.settings = store, settings
        self.app = make_celery(settings)

    def submit(self, job_id: int) -> None:
        """Send a ``queued`` job to the workers; on a broker failure the job is failed (retryable)."""
        task_id = f"job-{job_id}-{uuid.uuid4().hex[:12]}"
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id)
            if job is None or job.status != "queued":
                return
            job.task_id = task_id
        try:
            self.app.send_task(TASK_NAME, args=(job_id,), task_id=task_id, queue=self.settings.job_queue,
                               retry=True)
        except Exception as exc:  # kombu's OperationalError, a refused or timed-out connection ...
            log.error("job %s: cannot reach the broker: %r", job_id, exc)
            self._fail_queued(job_id, UNREACHABLE)

    def _fail_queued(self, job_id: int, message: str) -> None:
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id, with_for_update=True)
            if job is None or job.status != "queued":
                return
            job.status, job.error = "failed", message
            row = db.get(ExerciseSession, job.session_id)
            if row is not None:
                row.status, row.error, row.ended_at = "failed", message, utcnow()

    def cancel(self, job_id: int) -> None:
        """A queued job is cancelled at once (its task revoked); a running one stops at its next progress check."""
        with self.store.session() as db, db.begin():
            job = db.get(Job, job_id, with_for_update=True)
            if job is None or job.status not in ("queued", "running"):
                return
            job.cancel_requested = True
            task_id = job.task_id
            if job.status == "queued":
                job.status, job.error = "cancelled", "The analysis was cancelled."
                row = db.get(ExerciseSession, job.session_id)
                if row is not None:
                    row.status, row.error = "cancelled", job.error
        if task_id:
            try:
                self.app.control.revoke(task_id)
            except Exception as exc:  # the database flag still stops it
                log.warning("job %s: revoke failed: %r", job_id, exc)

    def resume(self) -> list[int]:
        """Nothing to resume here: the broker re-delivers what a lost worker had (late acknowledgement). With
        object storage, uploads a killed API process was receiving into its data folder are removed."""
        import time

        from server.jobs.cleanup import ORPHAN_GRACE_S

        if self.settings.storage_url and self.settings.upload_dir.is_dir():
            old = time.time() - ORPHAN_GRACE_S
            for path in self.settings.upload_dir.iterdir():
                with contextlib.suppress(FileNotFoundError):  # another API process removed it first
                    if path.is_file() and path.stat().st_mtime < old:
                        path.unlink()
        return []

    def shutdown(self) -> None:
        try:
            self.app.close()
        except Exception:
            pass
