"""Video uploads: stored under a server-made name, checked by opening them, analysed in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from formcheck.store import ExerciseSession, Job, User
from server.catalog import check_exercise, exercise_info
from server.deps import DB, CurrentUser, SettingsDep, visible_patient
from server.errors import Problem
from server.schemas import UploadAccepted
from server.uploads import CHUNK, check_video, new_upload_path, too_large

router = APIRouter(prefix="/api", tags=["uploads"])


def _owner(db, user: User, patient_id: int | None) -> User:
    if user.role == "patient":
        if patient_id not in (None, user.id):
            raise Problem(404, "No such patient.", "Not found")
        return user
    if patient_id is None:
        raise Problem(422, "Say which patient the video is for (patient_id).", "Patient missing")
    return visible_patient(db, user, patient_id)


@router.post("/uploads", response_model=UploadAccepted, status_code=202)
async def upload_video(
    request: Request,
    user: CurrentUser,
    db: DB,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the video (MP4, MOV, WebM, AVI)")],
    exercise: Annotated[str, Form(description="catalog exercise id")],
    patient_id: Annotated[int | None, Form(description="for therapists: whose video this is")] = None,
):
    """Upload a video of one exercise; it is analysed in the background (poll ``/api/jobs/{job_id}``)."""
    exercise = check_exercise(exercise)
    patient = _owner(db, user, patient_id)
    limit = int(settings.max_upload_mb * 1024 * 1024)
    if file.size is not None and file.size > limit:
        raise too_large(settings)
    path = new_upload_path(settings)
    try:
        written = 0
        with path.open("wb") as out:
            while chunk := await file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise too_large(settings)
                out.write(chunk)
        if written == 0:
            raise Problem(422, "The uploaded file is empty.", "Empty file")
        info = await run_in_threadpool(check_video, path, settings)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    original = (file.filename or "video").replace("/", "_").replace("\\", "_")[-120:]
    row = ExerciseSession(
        patient_id=patient.id,
        kind="upload",
        title=exercise_info(exercise)["name"],
        model=settings.model,
        source=original,
        status="queued",
        duration_s=round(info.duration_s, 3),
    )
    db.add(row)
    db.flush()
    job = Job(session_id=row.id, upload_file=path.name, exercise=exercise, model=settings.model, status="queued")
    db.add(job)
    db.commit()
    request.app.state.jobs.submit(job.id)
    return UploadAccepted(job_id=job.id, session_id=row.id)
