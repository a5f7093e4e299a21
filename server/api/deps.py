"""Request dependencies: settings, database session, the logged-in user, and rows the user may see."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from formcheck.storage.database import ExerciseSession, Job, Store, User
from server.api.errors import Problem, not_found
from server.core.auth import COOKIE_NAME, decode_token
from server.core.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.store.session() as db:
        yield db


SettingsDep = Annotated[Settings, Depends(get_settings)]
DB = Annotated[Session, Depends(get_db)]


def user_from_token(db: Session, settings: Settings, token: str | None) -> User:
    """The active user a token belongs to, or a 401 problem."""
    if not token:
        raise Problem(401, "Log in first (no token was sent).", "Not authenticated", {"WWW-Authenticate": "Bearer"})
    user = db.get(User, decode_token(token, settings.jwt_secret))
    if user is None or not user.active:
        raise Problem(401, "This account no longer exists or is disabled.", "Invalid token")
    return user


def current_user(
    request: Request, db: DB, settings: SettingsDep, bearer: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return user_from_token(db, settings, bearer or request.cookies.get(COOKIE_NAME))


CurrentUser = Annotated[User, Depends(current_user)]


def therapist(user: CurrentUser) -> User:
    if user.role != "therapist":
        raise Problem(403, "Only therapists can do this.", "Forbidden")
    return user


Therapist = Annotated[User, Depends(therapist)]


def visible_patient(db: Session, user: User, patient_id: int) -> User:
    """A patient the user may see (a therapist's own patient, or the patient themselves), else 404."""
    patient = db.get(User, patient_id)
    if patient is None or patient.role != "patient":
        raise not_found("patient")
    if patient.id == user.id or (user.role == "therapist" and patient.therapist_id == user.id):
        return patient
    raise not_found("patient")


def can_see_session(db: Session, user: User, row: ExerciseSession) -> bool:
    if row.patient_id is None:
        return False
    if row.patient_id == user.id:
        return True
    if user.role != "therapist":
        return False
    patient = db.get(User, row.patient_id)
    return patient is not None and patient.therapist_id == user.id


def visible_session(db: Session, user: User, session_id: int) -> ExerciseSession:
    row = db.get(ExerciseSession, session_id)
    if row is None or not can_see_session(db, user, row):
        raise not_found("session")
    return row


def visible_job(db: Session, user: User, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise not_found("job")
    row = db.get(ExerciseSession, job.session_id)
    if row is None or not can_see_session(db, user, row):
        raise not_found("job")
    return job
