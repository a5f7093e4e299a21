"""Video uploads: stored under a server-made name, checked by opening them, analysed in the background."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from formcheck.storage.database import ExerciseSession, Job, Programme, User
from server.api.deps import DB, CurrentUser, SettingsDep, visible_patient
from server.api.errors import Problem, not_found
from server.api.schemas import UploadAccepted
from server.services.catalog import check_exercise, exercise_info, recognition_available
from server.services.programmes import can_see
from server.services.uploads import CHUNK, check_video, new_upload_path, too_large

router = APIRouter(prefix="/api", tags=["uploads"])


def _owner(db, user: User, patient_id: int | None) -> User:
    if user.role == "patient":
        if patient_id not in (None, user.id):
            raise Problem(404, "No such patient.", "Not found")
        return user
    if patient_id is None:
        raise Problem(422, "Say which patient the video is for (patient_id).", "Patient missing")
    return visible_patient(db, user, patient_id)


def _what(db, user: User, patient: User, exercise: str | None, programme_id: int | None):
    """(exercise id or "auto", job options, programme name) for an upload; 422 problems for bad choices."""
    programme = None
    if programme_id is not None:
        programme = db.get(Programme, programme_id)
        if programme is None or not (can_see(user, programme) or can_see(patient, programme)):
            raise not_found("programme")
    if exercise not in (None, "", "auto"):
        return check_exercise(exercise), None, programme.name if programme else None
    if programme is None and exercise in (None, ""):
        raise Problem(422, "Say which exercise the video shows (exercise), or give a programme.", "Exercise missing")
    if not recognition_available():
        raise Problem(422, "Recognising the exercise is not available here; name the exercise.", "Unknown exercise")
    if programme is None:
        return "auto", None, None
    exercises = sorted({item["exercise"] for item in programme.items})
    return "auto", {"exercises": exercises}, programme.name


async def _receive(file: UploadFile, settings) -> tuple[Path, object]:
    """Write the upload under a server-made name, within the size limit, and open it as a video."""
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
        return path, await run_in_threadpool(check_video, path, settings)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _queue(db, patient: User, exercise: str, options: dict | None, programme: str | None, filename: str | None,
           path: Path, duration_s: float, model: str) -> Job:
    """The queued session and its analysis job."""
    original = (filename or "video").replace("/", "_").replace("\\", "_")[-120:]
    row = ExerciseSession(
        patient_id=patient.id,
        kind="upload",
        title=exercise_info(exercise)["name"] if exercise != "auto" else "Recognising the exercise",
        programme=programme,
        model=model,
        source=original,
        status="queued",
        duration_s=round(duration_s, 3),
    )
    db.add(row)
    db.flush()
    job = Job(session_id=row.id, upload_file=path.name, exercise=exercise, options=options, model=model,
              status="queued")
    db.add(job)
    db.commit()
    return job


@router.post("/uploads", response_model=UploadAccepted, status_code=202)
async def upload_video(
    request: Request,
    user: CurrentUser,
    db: DB,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the video (MP4, MOV, WebM, AVI)")],
    exercise: Annotated[str | None, Form(description="catalog exercise id, or 'auto' to recognise it")] = None,
    patient_id: Annotated[int | None, Form(description="for therapists: whose video this is")] = None,
    programme_id: Annotated[int | None, Form(description="the video shows one of this programme's exercises")] = None,
):
    """Upload a video of one exercise (named, or recognised among a programme's exercises); it is analysed in
    the background (poll ``/api/jobs/{job_id}``)."""
    patient = _owner(db, user, patient_id)
    exercise, options, programme_name = _what(db, user, patient, exercise, programme_id)
    path, info = await _receive(file, settings)
    job = _queue(db, patient, exercise, options, programme_name, file.filename, path, info.duration_s, settings.model)
    request.app.state.jobs.submit(job.id)
    return UploadAccepted(job_id=job.id, session_id=job.session_id)
