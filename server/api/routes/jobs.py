"""Background analysis jobs: progress, cancel, retry."""

from __future__ import annotations

from fastapi import APIRouter, Request

from formcheck.storage.database import ExerciseSession, Job
from server.api.deps import DB, CurrentUser, JobId, SettingsDep, visible_job
from server.api.errors import Problem
from server.api.schemas import JobOut
from server.storage.videos import UPLOADS, video_store

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def job_out(db, job: Job) -> dict:
    """The job as the API shows it; once done, the exercise analysed and how sure (from its stored session)."""
    row = db.get(ExerciseSession, job.session_id)
    recognition = (row.report or {}).get("recognition") if row is not None and job.status == "done" else None
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "session_id": job.session_id,
        "exercise": job.exercise,
        "attempts": job.attempts,
        "error": job.error,
        "recognition": recognition,
    }


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: JobId, user: CurrentUser, db: DB):
    """Status (queued, running, done, failed, cancelled), progress 0-100, and the error in words."""
    return job_out(db, visible_job(db, user, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: JobId, request: Request, user: CurrentUser, db: DB):
    job = visible_job(db, user, job_id)
    if job.status in ("queued", "running"):
        request.app.state.jobs.cancel(job.id)
        db.refresh(job)
    return job_out(db, job)


@router.post("/{job_id}/retry", response_model=JobOut, status_code=202)
def retry_job(job_id: JobId, request: Request, user: CurrentUser, db: DB, settings: SettingsDep):
    """Run a failed or cancelled job again (its upload is kept until an analysis succeeds)."""
    job = visible_job(db, user, job_id)
    if job.status not in ("failed", "cancelled"):
        raise Problem(409, f"The job is {job.status}; only failed or cancelled jobs can be retried.", "Cannot retry")
    if not video_store(settings).exists(UPLOADS, job.upload_file):  # deleted after upload_retention_days
        raise Problem(409, "The uploaded video is no longer stored; upload it again.", "Upload gone")
    job.status, job.cancel_requested, job.error, job.progress, job.attempts = "queued", False, None, 0.0, 0
    row = db.get(ExerciseSession, job.session_id)
    row.status, row.error = "queued", None
    db.commit()
    request.app.state.jobs.submit(job.id)
    return job_out(db, job)
