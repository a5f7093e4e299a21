"""Request dependencies: settings, database session, the logged-in user, and rows the user may see."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from formcheck.storage.database import ExerciseSession, Job, Store, User
from server.api.errors import Problem, not_found
from server.core.auth import COOKIE_NAME, decode_claims
from server.core.settings import Settings
from server.core.validation import DB_ID_MAX, id_in_range

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

# Ids in paths and queries: 1 .. 2**31 - 1 (a 422 problem otherwise, never a database error)
PatientId = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="a patient's id")]
SessionId = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="a session's id")]
JobId = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="a job's id")]
ProgrammeId = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="a programme's id")]
PatientFilter = Annotated[int | None, Query(ge=1, le=DB_ID_MAX, description="only this patient's")]


def user_from_token(db: Session, settings: Settings, token: str | None) -> User:
    """The active user a token belongs to, or a 401 problem (also for a token revoked by a logout or a new
    password: its version is older than the account's)."""
    if not token:
        raise Problem(401, "Log in first (no token was sent).", "Not authenticated", {"WWW-Authenticate": "Bearer"})
    claims = decode_claims(token, settings.jwt_secret)
    user = db.get(User, claims.user_id) if id_in_range(claims.user_id) else None
    if user is None or not user.active:
        raise Problem(401, "This account no longer exists or is disabled.", "Invalid token")
    if claims.version != user.token_version:
        raise Problem(401, "You have logged out, or the password was changed; please log in again.",
                      "Token revoked", {"WWW-Authenticate": "Bearer"})
    return user


def request_token(request: Request) -> str | None:
    """The login token a request carries: the bearer header, else the login cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME)


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


def admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise Problem(403, "Only the clinic admin can do this.", "Forbidden")
    return user


Admin = Annotated[User, Depends(admin)]


def visible_patient(db: Session, user: User, patient_id: int) -> User:
    """A patient the user may see (a therapist's own patient, or the patient themselves), else 404."""
    patient = db.get(User, patient_id) if id_in_range(patient_id) else None
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
    row = db.get(ExerciseSession, session_id) if id_in_range(session_id) else None
    if row is None or not can_see_session(db, user, row):
        raise not_found("session")
    return row


def visible_job(db: Session, user: User, job_id: int) -> Job:
    job = db.get(Job, job_id) if id_in_range(job_id) else None
    if job is None:
        raise not_found("job")
    row = db.get(ExerciseSession, job.session_id)
    if row is None or not can_see_session(db, user, row):
        raise not_found("job")
    return job
