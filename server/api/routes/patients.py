"""A therapist's patients: accounts, programme and level, progress."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask

from formcheck.storage.database import LevelChange, Programme, User
from server.api.deps import DB, CurrentUser, PatientId, SettingsDep, Therapist, visible_patient
from server.api.errors import Problem
from server.api.schemas import (
    LevelChangeIn,
    LevelSuggestion,
    PatientCreate,
    PatientErase,
    PatientOut,
    PatientUpdate,
)
from server.core.auth import hash_password, password_problem
from server.services import audit, patient_data, progress
from server.services.programmes import assignable_programme, builtin_for_level, patient_programme
from server.storage.videos import StorageError, video_store

router = APIRouter(prefix="/api/patients", tags=["patients"])


def patient_out(db, patient: User) -> dict:
    programme = patient_programme(db, patient)
    return {
        "id": patient.id,
        "username": patient.username,
        "display_name": patient.display_name,
        "level": patient.level,
        "programme_id": programme.id if programme else None,
        "programme": programme.name if programme else None,
        "keep_videos": patient.keep_videos,
        "video_on_device_only": patient.video_on_device_only,
        **progress.overview(db, patient),
    }


@router.post("", response_model=PatientOut, status_code=201)
def create_patient(body: PatientCreate, user: Therapist, db: DB):
    """Create a patient account (the patient logs in with this username and password)."""
    if db.scalars(select(User).where(User.username == body.username)).first():
        raise Problem(409, f"The username {body.username!r} is taken.", "Username taken")
    if problem := password_problem(body.password, body.username):
        raise Problem(422, f"password: {problem}.", "Invalid request")
    programme = builtin_for_level(db, body.level)
    patient = User(
        username=body.username,
        password_hash=hash_password(body.password),
        role="patient",
        display_name=body.display_name or body.username,
        therapist_id=user.id,
        level=body.level,
        programme_id=programme.id if programme else None,
    )
    db.add(patient)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Problem(409, f"The username {body.username!r} is taken.", "Username taken") from None
    return patient_out(db, patient)


@router.get("", response_model=list[PatientOut])
def list_patients(user: Therapist, db: DB):
    """The therapist's own patients with level, programme, last session, adherence and flags."""
    rows = db.scalars(select(User).where(User.therapist_id == user.id, User.role == "patient").order_by(User.id))
    return [patient_out(db, p) for p in rows]


@router.get("/{patient_id}", response_model=PatientOut)
def get_patient(patient_id: PatientId, user: CurrentUser, db: DB):
    return patient_out(db, visible_patient(db, user, patient_id))


@router.patch("/{patient_id}", response_model=PatientOut)
def update_patient(patient_id: PatientId, body: PatientUpdate, user: Therapist, db: DB, request: Request):
    """Change display name, level, programme (built in or the therapist's own) or whether videos are kept."""
    patient = visible_patient(db, user, patient_id)
    if body.display_name is not None:
        patient.display_name = body.display_name
    if body.keep_videos is not None:
        patient.keep_videos = body.keep_videos
    if body.video_on_device_only is not None:
        patient.video_on_device_only = body.video_on_device_only
    if body.level is not None and body.level != patient.level:
        db.add(LevelChange(patient_id=patient.id, from_level=patient.level, to_level=body.level, by_id=user.id))
        current = db.get(Programme, patient.programme_id) if patient.programme_id else None
        if current is None or current.owner_id is None:  # on a built-in programme: follow the level
            new = builtin_for_level(db, body.level)
            patient.programme_id = new.id if new else None
        patient.level = body.level
        audit.record(db, request, user, "patient.level", patient_id=patient.id, commit=False)
    if "programme_id" in body.model_fields_set:
        patient.programme_id = (
            assignable_programme(db, user, body.programme_id).id if body.programme_id is not None else None
        )
    db.commit()
    return patient_out(db, patient)


@router.get("/{patient_id}/trends")
def patient_trends(patient_id: PatientId, user: CurrentUser, db: DB) -> dict:
    """Per exercise per ISO week: reps done vs target, average score, hold seconds, range of motion; pain."""
    return progress.trends(db, visible_patient(db, user, patient_id))


@router.get("/{patient_id}/level-suggestion", response_model=LevelSuggestion)
def level_suggestion(patient_id: PatientId, user: Therapist, db: DB):
    return progress.level_suggestion(db, visible_patient(db, user, patient_id))


@router.post("/{patient_id}/level", response_model=PatientOut)
def change_level(patient_id: PatientId, body: LevelChangeIn, user: Therapist, db: DB, request: Request):
    """Accept a level change: records it and assigns that level's built-in programme. ``accept: false`` records
    that a suggested level-up was declined: it is suggested again only after more good sessions."""
    patient = visible_patient(db, user, patient_id)
    audit.record(db, request, user, "patient.level", patient_id=patient.id, commit=False)
    if not body.accept:
        if body.level != patient.level:
            db.add(LevelChange(patient_id=patient.id, from_level=patient.level, to_level=body.level, by_id=user.id,
                               decision="declined"))
        db.commit()
        return patient_out(db, patient)
    if body.level != patient.level:
        db.add(LevelChange(patient_id=patient.id, from_level=patient.level, to_level=body.level, by_id=user.id))
    patient.level = body.level
    programme = builtin_for_level(db, body.level)
    patient.programme_id = programme.id if programme else None
    db.commit()
    return patient_out(db, patient)


@router.get("/{patient_id}/export.zip", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "the patient's data as a zip"}})
def export_patient(patient_id: PatientId, user: CurrentUser, db: DB, settings: SettingsDep, request: Request):
    """Everything of one patient as a zip (their therapist, or the patient themself): the account (no password),
    programme and level changes, every session (detail JSON and events CSV), notes, pain reports, jobs, kept
    videos and uploads. Built in a temporary file, removed once sent."""
    patient = visible_patient(db, user, patient_id)
    try:
        path = patient_data.export_zip(db, settings, video_store(settings), patient)
    except StorageError as exc:
        raise Problem(503, f"The video storage did not answer: {exc}", "Storage unavailable") from None
    try:
        audit.record(db, request, user, "patient.export", patient_id=patient.id)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type="application/zip", filename=f"patient-{patient.id}.zip",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.delete("/{patient_id}", status_code=204, response_class=Response)
def erase_patient(patient_id: PatientId, body: PatientErase, user: Therapist, db: DB, settings: SettingsDep,
                  request: Request) -> Response:
    """Erase a patient (their therapist only; ``{"confirm": "<the patient's username>"}``): every row (account,
    sessions, sets, reps, holds, warnings, pain, notes, jobs, level changes), their uploads and kept videos.
    The audit log records the erasure and keeps its entries. Refused (409) while a session records or a video
    is being analysed."""
    patient = visible_patient(db, user, patient_id)
    if body.confirm != patient.username:
        raise Problem(422, "To erase this patient, send their username as confirm.", "Confirmation missing")
    if busy := patient_data.busy_sessions(db, patient):
        raise Problem(409, f"Session(s) {busy} are still recording or being analysed; end or cancel them first.",
                      "Patient busy")
    files = patient_data.erase_rows(db, patient)
    audit.record(db, request, user, "patient.erase", patient_id=patient_id)  # commits rows and entry together
    try:
        patient_data.remove_files(video_store(settings), files)
    except StorageError as exc:
        raise Problem(503, f"The patient's rows are erased, but the video storage did not answer ({exc}); "
                      "their files are removed by the next clean-up of unreferenced files.", "Storage unavailable"
                      ) from None
    return Response(status_code=204)
