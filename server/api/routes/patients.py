"""A therapist's patients: accounts, programme and level, progress."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from formcheck.storage.database import LevelChange, Programme, User
from server.api.deps import DB, CurrentUser, PatientId, Therapist, visible_patient
from server.api.errors import Problem
from server.api.schemas import LevelChangeIn, LevelSuggestion, PatientCreate, PatientOut, PatientUpdate
from server.core.auth import hash_password, password_problem
from server.services import progress
from server.services.programmes import assignable_programme, builtin_for_level, patient_programme

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
def update_patient(patient_id: PatientId, body: PatientUpdate, user: Therapist, db: DB):
    """Change display name, level, programme (built in or the therapist's own) or whether videos are kept."""
    patient = visible_patient(db, user, patient_id)
    if body.display_name is not None:
        patient.display_name = body.display_name
    if body.keep_videos is not None:
        patient.keep_videos = body.keep_videos
    if body.level is not None and body.level != patient.level:
        db.add(LevelChange(patient_id=patient.id, from_level=patient.level, to_level=body.level, by_id=user.id))
        current = db.get(Programme, patient.programme_id) if patient.programme_id else None
        if current is None or current.owner_id is None:  # on a built-in programme: follow the level
            new = builtin_for_level(db, body.level)
            patient.programme_id = new.id if new else None
        patient.level = body.level
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
def change_level(patient_id: PatientId, body: LevelChangeIn, user: Therapist, db: DB):
    """Accept a level change: records it and assigns that level's built-in programme. ``accept: false`` records
    that a suggested level-up was declined: it is suggested again only after more good sessions."""
    patient = visible_patient(db, user, patient_id)
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
