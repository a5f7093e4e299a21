"""One analysis job: run the pipeline over an uploaded video and store the scored session.

Runs in a worker process (or inline); everything it needs comes from the database and the data folder,
so any executor (the in-server pool today, a task queue later) can run ``analyse_upload``.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import cv2
from sqlalchemy import delete

from formcheck.core.events import Event
from formcheck.storage.database import (
    ExerciseSession,
    ExerciseSet,
    Hold,
    Job,
    PainReport,
    Programme,
    Rep,
    Store,
    User,
    Warning_,
    event_row,
    utcnow,
)

log = logging.getLogger("formcheck.worker")
NOBODY = "Nobody was seen in the video: film the whole body, with the person in view."


class EventTap:
    """Wraps an analyzer and keeps every event it emits (``run`` folds finish() events into the report only)."""

    def __init__(self, analyzer):
        self.inner, self.events = analyzer, []
        self.exercise = analyzer.exercise

    def update(self, pose) -> list[Event]:
        events = self.inner.update(pose)
        self.events.extend(events)
        return events

    def finish(self, t: float) -> list[Event]:
        events = self.inner.finish(t)
        self.events.extend(events)
        return events

    def __getattr__(self, name):
        return getattr(self.inner, name)


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
    try:
        from server.services.catalog import exercise_info

        t = exercise_info(exercise)["targets"]
        return t.get("reps"), t.get("hold_s")
    except Exception:  # the catalog is optional for analysis
        return None, None


def _analyzer(exercise: str, options: dict, create_analyzer):
    if exercise == "auto":
        from formcheck.engine.recognition import AutoAnalyzer

        return AutoAnalyzer(exercises=options.get("exercises"))
    return create_analyzer(exercise)


def _exercise_name(exercise: str) -> str:
    try:
        from server.services.catalog import exercise_info

        return exercise_info(exercise)["name"]
    except Exception:  # e.g. "periodic": an exercise outside the catalog
        return exercise.replace("_", " ").capitalize()


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


def analyse_upload(job_id: int, db_url: str, data_dir: str, model: str = "full") -> str:
    """Analyse the job's upload and store the scored session; returns the job's final status."""
    from formcheck.engine import create_analyzer
    from formcheck.io.sources import SourceError, VideoFileSource
    from formcheck.pipeline.loop import run
    from formcheck.pipeline.sinks import ThreadedSink
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    store = Store(db_url, migrate_schema=False)
    data = Path(data_dir)
    try:
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
            keep = bool(patient and patient.keep_videos)
            target_reps, target_hold = _targets(db, patient, job.exercise)
            session_id, exercise, upload = row.id, job.exercise, data / "uploads" / job.upload_file
            model, options = job.model or model, dict(job.options or {})

        video_name = f"{uuid.uuid4().hex}.webm" if keep else None
        try:
            source = VideoFileSource(upload)
        except SourceError as exc:
            _fail(store, job_id, session_id, "failed", f"The video cannot be read: {exc}")
            return "failed"
        tracker = _Progress(store, job_id, source.frame_count)
        sinks, estimator = [], None
        try:
            analyzer = EventTap(_analyzer(exercise, options, create_analyzer))
            estimator = PoseEstimator.create(PoseEstimatorOptions(model=model))
            if video_name:
                (data / "videos").mkdir(parents=True, exist_ok=True)
                sinks.append(
                    ThreadedSink(
                        _web_video_writer(data / "videos" / video_name, source.fps, exercise, model), name="annotate"
                    )
                )
            report = run(
                source, estimator, analyzer, sinks=sinks, on_frame=tracker.on_frame, should_stop=tracker.should_stop
            )
        finally:
            for sink in sinks:
                sink.close()
            if estimator is not None:
                estimator.close()
            source.close()
        if tracker.orphaned:  # the server is gone; its restart runs the job again
            if video_name:
                (data / "videos" / video_name).unlink(missing_ok=True)
            return "orphaned"
        if tracker.cancelled or report.frames_with_person == 0:
            if video_name:
                (data / "videos" / video_name).unlink(missing_ok=True)
            if tracker.cancelled:
                _fail(store, job_id, session_id, "cancelled", "The analysis was cancelled.")
                return "cancelled"
            _fail(store, job_id, session_id, "failed", NOBODY)
            return "failed"
        if exercise == "auto":  # recognised: store the session under the exercise that was seen
            exercise = analyzer.inner.exercise
            with store.session() as db:
                row = db.get(ExerciseSession, session_id)
                patient = db.get(User, row.patient_id) if row.patient_id else None
                target_reps, target_hold = _targets(db, patient, exercise)
        series_of = getattr(analyzer.inner, "series", None) or getattr(
            getattr(analyzer.inner, "delegate", None),
            "series",
            None,  # "auto": the recognised exercise's analyzer
        )
        series = {exercise: series_of()} if series_of else None
        data_out = report.to_dict()
        if not data_out.get("summary"):
            scores = [r["score"] for r in data_out["reps"]]
            data_out["summary"] = {
                "rep_count": data_out["rep_count"],
                "avg_score": round(sum(scores) / len(scores), 1) if scores else None,
                "hold_s": round(sum(h["duration_s"] for h in data_out["holds"]), 2),
                "warnings": len(data_out["warnings"]),
            }
        with store.session() as db, db.begin():
            for table in (Rep, Hold, Warning_, PainReport, ExerciseSet):  # a resumed job starts clean
                db.execute(delete(table).where(table.session_id == session_id))
            ex_set = ExerciseSet(
                session_id=session_id,
                exercise=exercise,
                set_index=1,
                target_reps=target_reps,
                target_hold_s=target_hold,
                started_s=0.0,
                ended_s=report.duration_s,
                status="done",
            )
            db.add(ex_set)
            db.flush()
            db.add_all([r for r in (event_row(session_id, exercise, e, ex_set.id) for e in analyzer.events) if r])
            row, job = db.get(ExerciseSession, session_id), db.get(Job, job_id)
            row.status, row.ended_at, row.error = "completed", utcnow(), None
            row.report, row.series, row.model = data_out, series, model
            if job.exercise == "auto":
                row.title = _exercise_name(exercise)
            row.duration_s, row.frames, row.frames_with_person = (
                report.duration_s,
                report.frames,
                report.frames_with_person,
            )
            row.notices = data_out["notices"]
            row.video_file = video_name
            job.status, job.progress, job.error = "done", 100.0, None
        if not keep:
            upload.unlink(missing_ok=True)
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
