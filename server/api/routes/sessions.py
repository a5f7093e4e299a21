"""Scored sessions: list, detail, exports, annotated video, therapist notes, pain reports."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from formcheck.storage.database import ExerciseSession, Note, PainReport, User
from server.api.deps import (
    DB,
    CurrentUser,
    PatientFilter,
    SessionId,
    SettingsDep,
    Therapist,
    visible_patient,
    visible_session,
)
from server.api.errors import not_found
from server.api.schemas import NoteIn, NoteOut, PainIn, PainRecorded, SessionDetail, SessionSummary
from server.services import audit
from server.services.reports import detail, summary, to_csv
from server.storage.videos import video_response

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

_EAGER = (
    selectinload(ExerciseSession.sets),
    selectinload(ExerciseSession.reps),
    selectinload(ExerciseSession.holds),
    selectinload(ExerciseSession.warnings),
    selectinload(ExerciseSession.pain_reports),
)


def _audited(db, request: Request, user, session_id: int, action: str) -> ExerciseSession:
    """The session the user may see (else 404, not logged), with its access written to the audit log."""
    row = visible_session(db, user, session_id)
    audit.record(db, request, user, action, patient_id=row.patient_id, session_id=row.id)
    return row


@router.get("", response_model=list[SessionSummary])
def list_sessions(user: CurrentUser, db: DB, patient_id: PatientFilter = None, limit: int = 200):
    """Newest first: a patient's own sessions; a therapist's patients' sessions (or one patient's)."""
    query = select(ExerciseSession).options(*_EAGER).order_by(ExerciseSession.started_at.desc())
    if patient_id is not None:
        query = query.where(ExerciseSession.patient_id == visible_patient(db, user, patient_id).id)
    elif user.role == "patient":
        query = query.where(ExerciseSession.patient_id == user.id)
    else:
        own = select(User.id).where(User.therapist_id == user.id)
        query = query.where(or_(ExerciseSession.patient_id.in_(own), ExerciseSession.patient_id == user.id))
    return [summary(s) for s in db.scalars(query.limit(max(1, min(limit, 1000))))]


@router.get("/{session_id}", response_model=SessionDetail, response_model_exclude_unset=True)
def get_session(session_id: SessionId, user: CurrentUser, db: DB, request: Request):
    """The scored session: the keys of ``formcheck analyze --json`` (reps, holds, warnings, pain, summary, series,
    recognition, ...) plus sets, notes, status and the video link."""
    row = _audited(db, request, user, session_id, "session.view")
    return detail(db, row)


@router.get("/{session_id}/export.json")
def export_json(session_id: SessionId, user: CurrentUser, db: DB, request: Request):
    d = SessionDetail.model_validate(detail(db, _audited(db, request, user, session_id, "session.export_json")))
    data = d.model_dump_json(indent=2, exclude_unset=True)
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.json"'},
    )


@router.get("/{session_id}/export.csv")
def export_csv(session_id: SessionId, user: CurrentUser, db: DB, request: Request):
    """One line per rep, hold, warning and pain report."""
    text = to_csv(detail(db, _audited(db, request, user, session_id, "session.export_csv")))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.csv"'},
    )


@router.get("/{session_id}/video")
def session_video(session_id: SessionId, user: CurrentUser, db: DB, settings: SettingsDep, request: Request):
    """The annotated video, when the patient's videos are kept."""
    row = visible_session(db, user, session_id)
    response = video_response(settings, row.video_file)  # from the data folder or the object storage
    if response is None:
        raise not_found("video for this session (videos are kept only when the patient's setting allows)")
    audit.record(db, request, user, "session.video", patient_id=row.patient_id, session_id=row.id)
    return response


@router.post("/{session_id}/notes", response_model=NoteOut, status_code=201)
def add_note(session_id: SessionId, body: NoteIn, user: Therapist, db: DB, request: Request):
    row = visible_session(db, user, session_id)
    note = Note(session_id=row.id, author_id=user.id, text=body.text)
    db.add(note)
    audit.record(db, request, user, "session.note", patient_id=row.patient_id, session_id=row.id)
    return {"id": note.id, "author_id": note.author_id, "text": note.text, "created_at": note.created_at}


@router.post("/{session_id}/pain", response_model=PainRecorded, status_code=201)
def add_pain(session_id: SessionId, body: PainIn, user: CurrentUser, db: DB):
    """Record a pain report (0-10, where) on a session."""
    row = visible_session(db, user, session_id)
    exercise = row.sets[-1].exercise if row.sets else (row.title or "")
    t_s = body.t_s if body.t_s is not None else row.duration_s or 0.0
    pain = PainReport(
        session_id=row.id, exercise=exercise, t_s=t_s, rating=body.rating, location=body.location, note=body.note
    )
    db.add(pain)
    db.commit()
    return {"id": pain.id, "t_s": pain.t_s, "rating": pain.rating, "location": pain.location, "note": pain.note}
