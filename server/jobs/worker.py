"""One analysis job: run the pipeline over an uploaded video and store the scored session.

Runs in a worker process (or inline); everything it needs comes from the database and the data folder,
so any executor (the in-server pool today, a task queue later) can run ``analyse_upload``.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2

from formcheck.core.result import AnalysisResult
from formcheck.core.settings import Settings
from formcheck.storage.database import ExerciseSession, Job, Programme, Store, User, utcnow, write_result
from server.services.catalog import exercise_info

log = logging.getLogger("formcheck.worker")
NOBODY = "Nobody was seen in the video: film the whole body, with the person in view."


def _web_video_writer(path: Path, fps: float, exercise: str, model: str):
    """An annotated-video sink that browsers can play (VP8 in WebM)."""
    from formcheck.io.video import AnnotatedVideoWriter

    class WebmWriter(AnnotatedVideoWriter):
        def __call__(self, result) -> None:
            self.overlay.update(result.events)
            image = self.overlay.draw(result.frame.image.copy(), result.pose)
            if self._writer is None:
                h, w = image.shape[:2]
                self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"VP80"), self.fps, (w, h))
                if not self._writer.isOpened():
                    raise OSError(f"cannot write video {self.path}")
            self._writer.write(image)

    return WebmWriter(path, fps, exercise, model)


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
    """Writes progress and reads cancel requests at most every ``interval`` seconds."""

    def __init__(self, store: Store, job_id: int, total_frames: int, interval: float = 0.5):
        self.store, self.job_id, self.total, self.interval = store, job_id, max(total_frames, 1), interval
        self.parent = os.getppid()
        self.in_child = os.environ.get("FORMCHECK_WORKER_CHILD") == "1"
        self.next_at = 0.0
        self.frame = 0
        self.cancelled = self.orphaned = False

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
            job.progress = round(min(99.0, 100.0 * self.frame / self.total), 1)
        return False


def _fail(store: Store, job_id: int, session_id: int, status: str, message: str | None) -> None:
    with store.session() as db, db.begin():
        job, row = db.get(Job, job_id), db.get(ExerciseSession, session_id)
        if job is not None:
            job.status, job.error = status, message
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
    upload: Path
    model: str
    candidates: list[str] | None
    keep_video: bool


def _claim(store: Store, job_id: int, data: Path, model: str) -> _Claim | str:
    """Mark the job and its session running; a final status instead when there is nothing to run."""
    with store.session() as db, db.begin():
        job = db.get(Job, job_id)
        if job is None or job.status not in ("queued", "running"):
            return job.status if job else "missing"
        row = db.get(ExerciseSession, job.session_id)
        if job.cancel_requested:
            job.status, row.status = "cancelled", "cancelled"
            return "cancelled"
        job.status, job.attempts, job.progress, job.error = "running", job.attempts + 1, 0.0, None
        row.status, row.error = "running", None
        patient = db.get(User, row.patient_id) if row.patient_id else None
        return _Claim(row.id, job.exercise, data / "uploads" / job.upload_file, job.model or model,
                      (job.options or {}).get("exercises"), bool(patient and patient.keep_videos))


def _analyse(claim: _Claim, source, tracker: _Progress, video: Path | None) -> AnalysisResult:
    """The frame loop over the upload, with the annotated-video sink when the video is kept."""
    from formcheck.engine import create_analyzer
    from formcheck.pipeline.loop import run
    from formcheck.pipeline.sinks import ThreadedSink
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    analyzer = create_analyzer(claim.exercise, candidates=claim.candidates)
    sinks = []
    if video is not None:
        video.parent.mkdir(parents=True, exist_ok=True)
        sinks.append(ThreadedSink(_web_video_writer(video, source.fps, claim.exercise, claim.model), name="annotate"))
    models_dir = (_SETTINGS or Settings()).models_dir
    with PoseEstimator.create(PoseEstimatorOptions(model=claim.model, models_dir=models_dir)) as estimator:
        return run(source, estimator, analyzer, sinks=sinks, on_frame=tracker.on_frame,
                   should_stop=tracker.should_stop)


def _complete(store: Store, job_id: int, claim: _Claim, result: AnalysisResult, video: Path | None) -> None:
    """Store the result (a set, its events as rows, totals, recognition, series) and mark the job done."""
    with store.session() as db, db.begin():
        row, job = db.get(ExerciseSession, claim.session_id), db.get(Job, job_id)
        patient = db.get(User, row.patient_id) if row.patient_id else None
        exercise = result.exercise  # "auto": the exercise that was recognised
        title = exercise_info(exercise)["name"] if claim.exercise == "auto" else None
        targets = {exercise: _targets(db, patient, exercise)}
        write_result(db, claim.session_id, result, targets=targets, title=title,
                     video_file=video.name if video else None)
        job.status, job.progress, job.error = "done", 100.0, None


_SETTINGS: Settings | None = None  # the server's settings, handed to a worker process when it starts


def use_settings(settings: Settings) -> None:
    """Settings for the jobs this process runs (the job runner calls it in each worker process)."""
    global _SETTINGS
    _SETTINGS = settings


def analyse_upload(job_id: int, db_url: str, data_dir: str, model: str = "full") -> str:
    """Analyse the job's upload and store the scored session; returns the job's final status."""
    from formcheck.io.sources import SourceError, VideoFileSource

    store = Store(db_url, migrate_schema=False)
    data = Path(data_dir)
    if os.environ.get("FORMCHECK_WORKER_CHILD") == "1":  # a worker process: the server's catalog, database specs too
        from server.services.catalog import configure_catalog

        base = _SETTINGS or Settings()
        configure_catalog(base.model_copy(update={"database_url": db_url, "data_dir": data}), store)
    try:
        claim = _claim(store, job_id, data, model)
        if isinstance(claim, str):
            return claim
        try:
            source = VideoFileSource(claim.upload)
        except SourceError as exc:
            _fail(store, job_id, claim.session_id, "failed", f"The video cannot be read: {exc}")
            return "failed"
        video = data / "videos" / f"{uuid.uuid4().hex}.webm" if claim.keep_video else None
        tracker = _Progress(store, job_id, source.frame_count)
        with source:
            result = _analyse(claim, source, tracker, video)
        status = _outcome(tracker, result)
        if status != "done":
            if video is not None:
                video.unlink(missing_ok=True)
            if status != "orphaned":  # the server is gone; its restart runs the job again
                _fail(store, job_id, claim.session_id, status, _MESSAGES[status])
            return status
        _complete(store, job_id, claim, result, video)
        if not claim.keep_video:
            claim.upload.unlink(missing_ok=True)
        return "done"
    except Exception as exc:  # anything unexpected fails the job with a message, never silently
        log.exception("analysis job %s failed", job_id)
        with store.session() as db:
            job = db.get(Job, job_id)
            session_id = job.session_id if job else None
        if session_id is not None:
            _fail(store, job_id, session_id, "failed", f"The analysis failed: {exc}")
        return "failed"
    finally:
        store.close()


_MESSAGES = {"cancelled": "The analysis was cancelled.", "failed": NOBODY}


def _outcome(tracker: _Progress, result: AnalysisResult) -> str:
    """done, or why not: orphaned (the server was killed), cancelled, failed (nobody in the video)."""
    if tracker.orphaned:
        return "orphaned"
    if tracker.cancelled:
        return "cancelled"
    return "failed" if result.frames_with_person == 0 else "done"
