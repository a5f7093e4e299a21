"""The Celery application of the distributed configuration (``broker_url`` set): one task, ``analyse_upload``,
the same worker function the in-process pool runs.

Delivery: late acknowledgement (a task is acknowledged when it has finished, and re-queued when its worker process
is lost), one task prefetched per worker process, and on Redis a visibility timeout (``job_visibility_timeout_s``)
after which a task a killed worker had is delivered again. Job state stays in the database; the broker only
carries job ids, so results need no result backend. What makes a re-delivered task harmless is the claim in
:mod:`server.jobs.worker` (one token, one lease, one stored session).
"""

from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_process_init, worker_ready

from formcheck.core.settings import Settings

log = logging.getLogger("formcheck.celery")
TASK_NAME = "formcheck.analyse_upload"


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "redis+socket://"))


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings (broker, queue, delivery options); the task is registered on it."""
    if not settings.broker_url:
        raise ValueError("set FORMCHECK_BROKER_URL (redis://... or amqp://...) for Celery workers")
    app = Celery("formcheck", broker=settings.broker_url, set_as_current=False)
    transport: dict = {}
    if is_redis(settings.broker_url):
        transport = {
            "visibility_timeout": settings.job_visibility_timeout_s,
            # look for overdue unacknowledged tasks every few seconds (kombu's default: every ~100 s)
            "unacked_restore_interval": max(1, min(10, round(settings.job_visibility_timeout_s / 3))),
            "unacked_restore_throttle": 1,
            "global_keyprefix": f"{settings.job_queue}:",  # every key of this deployment under one prefix
            "socket_connect_timeout": 5,
        }
    app.conf.update(
        task_default_queue=settings.job_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for a restarted broker
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_heartbeat=0,
    )
    _register(app, settings)
    return app


def _register(app: Celery, settings: Settings) -> None:
    @app.task(name=TASK_NAME, bind=True, acks_late=True, max_retries=None)
    def analyse(task, job_id: int) -> str:
        from server.jobs.worker import analyse_upload

        status = analyse_upload(job_id, settings.db_url, str(settings.data_dir), settings.model)
        if status == "busy":  # another worker holds the job under a live lease: look again when it may be over
            raise task.retry(countdown=max(1.0, settings.job_lease_s / 2))
        log.info("job %s: %s", job_id, status)
        return status


def configure_worker(settings: Settings) -> None:
    """In a worker: the settings for its jobs, and a sweep of leftovers once it is ready."""
    from server.jobs import worker

    worker.use_settings(settings)

    @worker_process_init.connect(weak=False)
    def _child(**_) -> None:
        worker.use_settings(settings)

    @worker_ready.connect(weak=False)
    def _ready(**_) -> None:
        from formcheck.storage.database import Store
        from server.jobs.cleanup import sweep
        from server.storage.videos import video_store

        store = Store(settings.db_url)  # migrated: a worker may be the first to reach a new database
        try:
            sweep(store, video_store(settings), settings)
        except Exception:
            log.exception("could not remove leftovers")
        finally:
            store.close()


def run_worker(settings: Settings, concurrency: int, loglevel: str = "INFO") -> None:
    """Run a Celery worker for the analysis queue in this process (``formcheck worker``)."""
    import os

    os.environ["FORMCHECK_WORKER_CHILD"] = "1"  # its pool processes stop a job when the worker is gone
    configure_worker(settings)
    app = make_celery(settings)
    app.worker_main([
        "worker", f"--concurrency={concurrency}", "--pool=prefork", f"--queues={settings.job_queue}",
        f"--loglevel={loglevel}", "--without-gossip", "--without-mingle", "--without-heartbeat",
        f"--hostname=formcheck-{os.getpid()}@%h",
    ])
