"""One analysis job: run the pipeline over an uploaded video and store the scored session.

Runs in a worker process (or inline); everything it needs comes from the database and the video storage, so
any executor (the in-server pool, or a Celery worker on another machine) runs the same ``analyse_upload``.

Exactly once: each attempt claims the job with a fresh token and a lease it renews while it runs; only the
holder of the current token writes the session (in one transaction, with the job row locked), so a job
re-delivered by the broker after a worker was killed, or run twice by mistake, is stored once. An attempt that
finds the job held under a live lease answers ``busy`` (the task queue tries again later); one that finds it
claimed too often fails it with the reason, keeping the upload so it can be retried.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from formcheck.core.result import AnalysisResult
from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Programme, Store, User, utcnow, write_result
from server.services.catalog import exercise_info
from server.storage.videos import UPLOADS, VIDEOS, StorageError, VideoStore, new_name, temp_path, video_store

log = logging.getLogger("formcheck.worker")
NOBODY = "Nobody was seen in the video: film the whole body, with the person in view."


VIDEO_SUFFIX = "mp4"  # what _web_video_writer writes


def _web_video_writer(path: Path, fps: float, exercise: str, model: str):
    """An annotated-video sink that browsers can play (H.264 in MP4 with faststart)."""
    from formcheck.io.video import AnnotatedVideoWriter

    return AnnotatedVideoWriter(path, fps, exercise, model)


def _targets(db, patient: User | None, exercise: str) -> tuple[int | None, float | None]:
    """Targets for the exercise: from the patient's programme, else the catalog's defaults."""
    if patient is not None and patient.programme_id is not None:
        programme = db.get(Programme, patient.programme_id)
        for item in programme.items if programme else []:
            if item.get("exercise") == exercise:
                return item.get("reps"), item.get("hold_s")
    targets = exercise_info(exercise)["targets"]  # empty for an id outside the catalog (e.g. "periodic")
    return targets.get("reps"), targets.get("hold_s")


class _Progress:
    """Writes progress, renews the attempt's lease and reads cancel requests at most every ``interval`` s."""

    def __init__(self, store: Store, job_id: int, total_frames: int, token: str, lease_s: float,
                 interval: float = 0.5):
        self.store, self.job_id, self.total, self.interval = store, job_id, max(total_frames, 1), interval
        self.token, self.lease_s = token, lease_s
        self.parent = os.getppid()
        self.in_child = os.environ.get("FORMCHECK_WORKER_CHILD") == "1"
        self.next_at = 0.0
        self.frame = 0
        self.cancelled = self.orphaned = self.superseded = False

    def on_frame(self, result) -> None:
        self.frame = result.frame.index + 1

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = now + self.interval
        if self.in_child and os.getppid() != self.parent:  # the server was killed: leave the job to its restart
            self.orphaned = True
            return True
        with self.store.session() as db, db.begin():
            job = db.get(Job, self.job_id)
            if job is None or job.cancel_requested:
                self.cancelled = True
                return True
            if job.claim_token != self.token:  # another attempt took the job over (our lease had run out)
                self.superseded = True
                return True
            job.progress = round(min(99.0, 100.0 * self.frame / self.total), 1)
            job.lease_until = utcnow() + timedelta(seconds=self.lease_s)
        return False


def _fail(store: Store, job_id: int, session_id: int, status: str, message: str | None,
          token: str | None = None) -> None:
    """Mark the job and its session failed or cancelled (only while ``token``, when given, holds the job)."""
    with store.session() as db, db.begin():
        job, row = db.get(Job, job_id, with_for_update=True), db.get(ExerciseSession, session_id)
        if job is not None and token is not None and job.claim_token != token:
            return  # another attempt holds the job now: its outcome counts
        if job is not None:
            job.status, job.error, job.lease_until = status, message, None
        if row is not None:
            row.status, row.error, row.ended_at = (
                ("cancelled" if status == "cancelled" else "failed"),
                message,
                utcnow(),
            )


@dataclass(frozen=True)
class _Claim:
    """What a claimed job analyses: its session, exercise (or "auto"), upload, model and options."""

    session_id: int
    exercise: str
    upload: str
    model: str
    candidates: list[str] | None
    keep_video: bool
    token: str


def _aware(moment: datetime | None) -> datetime | None:
    """A stored time with its time zone (SQLite gives times back without one; they are UTC)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _claim(store: Store, job_id: int, model: str, settings: Settings) -> _Claim | str:
    """Claim the job for this attempt (a fresh token, a lease) and mark it running; else why not: its final status,
    ``missing``, or ``busy`` (another attempt holds it under a live lease)."""
    with store.session() as db, db.begin():
        job = db.get(Job, job_id, with_for_update=True)
        if job is None or job.status not in ("queued", "running"):
            return job.status if job else "missing"
        now = utcnow()
        if job.status == "running" and job.claim_token and (_aware(job.lease_until) or now) > now:
            return "busy"
        row = db.get(ExerciseSession, job.session_id)
        if job.cancel_requested:
            job.status, row.status = "cancelled", "cancelled"
            return "cancelled"
        if job.status == "running" and job.attempts >= settings.job_max_attempts:  # its workers died each time
            job.status, job.lease_until = "failed", None
            job.error = (f"The analysis stopped {job.attempts} times on this video (its worker was killed or "
                         "crashed); the upload is kept: retry the job.")
            row.status, row.error, row.ended_at = "failed", job.error, now
            return "failed"
        token = uuid.uuid4().hex
        job.status, job.attempts, job.progress, job.error = "running", job.attempts + 1, 0.0, None
        job.claim_token, job.lease_until = token, now + timedelta(seconds=settings.job_lease_s)
        row.status, row.error = "running", None
        patient = db.get(User, row.patient_id) if row.patient_id else None
        return _Claim(row.id, job.exercise, job.upload_file, job.model or model,
                      (job.options or {}).get("exercises"), bool(patient and patient.keep_videos), token)


def _analyse(claim: _Claim, source, tracker: _Progress, video: Path | None) -> AnalysisResult:
    """The frame loop over the upload, with the annotated-video sink when the video is kept."""
    from formcheck.engine import create_analyzer
    from formcheck.pipeline.loop import run
    from formcheck.pipeline.sinks import ThreadedSink
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    analyzer = create_analyzer(claim.exercise, candidates=claim.candidates)
    sinks = []
    if video is not None:
        sinks.append(ThreadedSink(_web_video_writer(video, source.fps, claim.exercise, claim.model), name="annotate"))
    models_dir = (_SETTINGS or Settings()).models_dir
    with PoseEstimator.create(PoseEstimatorOptions(model=claim.model, models_dir=models_dir)) as estimator:
        return run(source, estimator, analyzer, sinks=sinks, on_frame=tracker.on_frame,
                   should_stop=tracker.should_stop)


def _complete(store: Store, job_id: int, claim: _Claim, result: AnalysisResult, video: str | None) -> bool:
    """Store the result (a set, its events as rows, totals, recognition, series) and mark the job done, in one
    transaction with the job locked; ``False`` (nothing written) when another attempt holds the job now."""
    with store.session() as db, db.begin():
        job = db.get(Job, job_id, with_for_update=True)
        if job is None or job.status != "running" or job.claim_token != claim.token:
            return False
        row = db.get(ExerciseSession, claim.session_id)
        patient = db.get(User, row.patient_id) if row.patient_id else None
        exercise = result.exercise  # "auto": the exercise that was recognised
        title = exercise_info(exercise)["name"] if claim.exercise == "auto" else None
        targets = {exercise: _targets(db, patient, exercise)}
        write_result(db, claim.session_id, result, targets=targets, title=title, video_file=video)
        job.status, job.progress, job.error, job.lease_until = "done", 100.0, None, None
    return True


_SETTINGS: Settings | None = None  # the server's settings, handed to a worker process when it starts


def use_settings(settings: Settings) -> None:
    """Settings for the jobs this process runs (the job runner calls it in each worker process)."""
    global _SETTINGS
    _SETTINGS = settings


def analyse_upload(job_id: int, db_url: str, data_dir: str, model: str = "full") -> str:
    """Analyse the job's upload and store the scored session; returns the job's final status (or ``busy`` when
    another attempt holds the job, ``orphaned`` when the server that ran this process is gone)."""
    store = Store(db_url, migrate_schema=False)
    data = Path(data_dir)
    base = (_SETTINGS or Settings()).model_copy(update={"database_url": db_url, "data_dir": data})
    if os.environ.get("FORMCHECK_WORKER_CHILD") == "1":  # a worker process: the server's catalog, database specs too
        from server.services.catalog import configure_catalog

        configure_catalog(base, store)
    claim: _Claim | str | None = None
    try:
        claim = _claim(store, job_id, model, base)
        if isinstance(claim, str):
            return claim
        return _run_claimed(store, job_id, claim, base, video_store(base))
    except Exception as exc:  # anything unexpected fails the job with a message, never silently
        log.exception("analysis job %s failed", job_id)
        if isinstance(exc, FileNotFoundError):
            message = "The uploaded video is no longer stored; upload it again."
        elif isinstance(exc, StorageError):
            message = "The video storage could not be reached; retry the job."
        else:
            message = f"The analysis failed: {exc}"
        with store.session() as db:
            job = db.get(Job, job_id)
            session_id = job.session_id if job else None
        if session_id is not None:
            token = claim.token if isinstance(claim, _Claim) else None
            _fail(store, job_id, session_id, "failed", message, token)
        return "failed"
    finally:
        store.close()


def _run_claimed(store: Store, job_id: int, claim: _Claim, settings: Settings, videos: VideoStore) -> str:
    """The claimed attempt: read the upload, analyse it, keep the annotated video (written under a temporary name,
    stored only on success), store the session once."""
    from formcheck.io.sources import SourceError, VideoFileSource

    with videos.local_copy(UPLOADS, claim.upload) as upload:
        try:
            source = VideoFileSource(upload)
            source.name = "the video"  # notices name it so, never by its server-side file name
        except SourceError as exc:
            _fail(store, job_id, claim.session_id, "failed", f"The video cannot be read: {exc}", claim.token)
            return "failed"
        part = temp_path(settings.data_dir, VIDEO_SUFFIX) if claim.keep_video else None
        tracker = _Progress(store, job_id, source.frame_count, claim.token, settings.job_lease_s)
        try:
            with source:
                result = _analyse(claim, source, tracker, part)
            status = _outcome(tracker, result)
            if status != "done":
                if status in _MESSAGES:  # orphaned: the server's restart runs it; superseded: another attempt does
                    _fail(store, job_id, claim.session_id, status, _MESSAGES[status], claim.token)
                return status
            video = None
            if part is not None:
                video = new_name(VIDEO_SUFFIX)
                videos.put(VIDEOS, video, part)
            if not _complete(store, job_id, claim, result, video):
                if video is not None:
                    videos.delete(VIDEOS, video)
                return "superseded"
        finally:
            if part is not None:
                part.unlink(missing_ok=True)
    if not claim.keep_video:
        videos.delete(UPLOADS, claim.upload)
    return "done"


_MESSAGES = {"cancelled": "The analysis was cancelled.", "failed": NOBODY}


def _outcome(tracker: _Progress, result: AnalysisResult) -> str:
    """done, or why not: orphaned (the server was killed), superseded (another attempt took the job over),
    cancelled, failed (nobody in the video)."""
    if tracker.orphaned:
        return "orphaned"
    if tracker.superseded:
        return "superseded"
    if tracker.cancelled:
        return "cancelled"
    return "failed" if result.frames_with_person == 0 else "done"
