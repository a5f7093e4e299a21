"""Video uploads: stored under a server-made name, checked by opening them, analysed in the background."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from formcheck.storage.database import ExerciseSession, Job, Programme, User
from server.api.deps import DB, CurrentUser, SettingsDep, visible_patient
from server.api.errors import Problem, not_found
from server.api.schemas import UploadAccepted
from server.core.validation import DbId, Line
from server.services.catalog import check_exercise, exercise_info, recognition_available
from server.services.programmes import can_see
from server.services.upload_stream import receive_multipart
from server.services.uploads import check_video, new_upload_path, store_upload, too_large

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


class UploadForm(BaseModel):
    """The text fields of the upload form."""

    model_config = ConfigDict(extra="ignore")
    exercise: Line | None = Field(None, max_length=80, description="catalog exercise id, or 'auto' to recognise it")
    patient_id: DbId | None = Field(None, description="for therapists: whose video this is")
    programme_id: DbId | None = Field(None, description="the video shows one of this programme's exercises")


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "MP4, MOV, WebM or AVI"},
                        **UploadForm.model_json_schema()["properties"],
                    },
                }
            }
        },
    }
}


def _form(fields: dict[str, str]) -> UploadForm:
    try:  # an empty field is an absent one (as a browser sends an empty select)
        return UploadForm.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


async def _receive(request: Request, settings):
    """Stream the upload into a server-made file within the size limit (the form's fields beside it)."""
    limit = int(settings.max_upload_mb * 1024 * 1024)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + 64 * 1024:
        raise too_large(settings)
    upload = await receive_multipart(request, file_field="file", new_path=lambda: new_upload_path(settings),
                                     limit=limit, too_large=lambda: too_large(settings))
    if upload.path is None:
        raise RequestValidationError([{"loc": ("body", "file"), "msg": "send the video in the field 'file'",
                                       "type": "missing"}])
    return upload


async def _checked_video(path: Path, settings):
    """Open the stored upload as a video (header limits first); the file is removed when it is refused."""
    try:
        if path.stat().st_size == 0:
            raise Problem(422, "The uploaded file is empty.", "Empty file")
        return await run_in_threadpool(check_video, path, settings)
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


@router.post("/uploads", response_model=UploadAccepted, status_code=202, openapi_extra=UPLOAD_BODY)
async def upload_video(request: Request, user: CurrentUser, db: DB, settings: SettingsDep):
    """Upload a video of one exercise (named, or recognised among a programme's exercises) as multipart/form-data:
    ``file``, ``exercise``, ``patient_id``, ``programme_id``. It is analysed in the background (poll
    ``/api/jobs/{job_id}``). The login is checked before the body is read, and the body is read only up to the size
    limit."""
    upload = await _receive(request, settings)  # after authentication (a dependency): 401 before any byte is read
    try:
        form = _form(upload.fields)
        patient = _owner(db, user, form.patient_id)
        exercise, options, programme_name = _what(db, user, patient, form.exercise, form.programme_id)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    info = await _checked_video(upload.path, settings)
    await run_in_threadpool(store_upload, upload.path, settings)  # where workers read it (disk or object storage)
    job = _queue(db, patient, exercise, options, programme_name, upload.filename, upload.path, info.duration_s,
                 settings.model)
    request.app.state.jobs.submit(job.id)
    return UploadAccepted(job_id=job.id, session_id=job.session_id)
