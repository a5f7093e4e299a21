"""One patient's data as a zip (the right of access) and its erasure (the right to be forgotten).

The zip is built in a temporary file under ``data_dir/tmp`` (videos are copied file to file, never held in
memory) and removed once sent. Erasure deletes every row of the patient in one transaction together with its
audit entry, then their uploads and kept videos through the video storage (local or S3); the audit log keeps
its entries (ids and names only, no health data).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from formcheck.core.settings import Settings
from formcheck.storage.database import (
    ExerciseSession,
    ExerciseSet,
    Hold,
    Job,
    LevelChange,
    Note,
    PainReport,
    Rep,
    User,
    Warning_,
)
from server.api.schemas import SessionDetail
from server.services.programmes import patient_programme
from server.services.reports import detail, to_csv
from server.storage.videos import UPLOADS, VIDEOS, VideoStore, check_name, temp_path

BUSY = ("recording", "queued", "running")


def _sessions(db: Session, patient: User) -> list[ExerciseSession]:
    query = (select(ExerciseSession).where(ExerciseSession.patient_id == patient.id).order_by(ExerciseSession.id)
             .options(selectinload(ExerciseSession.sets), selectinload(ExerciseSession.notes)))
    return list(db.scalars(query))


def _jobs(db: Session, session_ids: list[int]) -> list[Job]:
    if not session_ids:
        return []
    return list(db.scalars(select(Job).where(Job.session_id.in_(session_ids)).order_by(Job.id)))


def _stored(kind: str, name: str | None) -> bool:
    try:
        check_name(kind, name or "")
    except ValueError:
        return False
    return True


def account(db: Session, patient: User) -> dict:
    """The account without its password hash or token version, with the programme assignment."""
    therapist = db.get(User, patient.therapist_id) if patient.therapist_id else None
    programme = patient_programme(db, patient)
    changes = db.scalars(select(LevelChange).where(LevelChange.patient_id == patient.id).order_by(LevelChange.id))
    return {
        "id": patient.id,
        "username": patient.username,
        "display_name": patient.display_name,
        "role": patient.role,
        "level": patient.level,
        "keep_videos": patient.keep_videos,
        "active": patient.active,
        "created_at": patient.created_at.isoformat() if patient.created_at else None,
        "therapist": {"id": therapist.id, "username": therapist.username,
                      "display_name": therapist.display_name} if therapist else None,
        "programme": {"id": programme.id, "name": programme.name, "level": programme.level,
                      "description": programme.description, "items": programme.items,
                      "assigned": programme.id == patient.programme_id} if programme else None,
        "level_changes": [{"from_level": c.from_level, "to_level": c.to_level, "decision": c.decision,
                           "by_id": c.by_id, "at": c.at.isoformat()} for c in changes],
    }


def _dump(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def export_zip(db: Session, settings: Settings, store: VideoStore, patient: User) -> Path:
    """Write everything of one patient into a new temporary zip file and return its path (the caller removes it).

    ``account.json``; per session ``sessions/<id>.json`` (the session detail: reps, holds, warnings, pain, notes,
    sets, summary) and ``sessions/<id>.csv`` (the events); ``notes.json``, ``pain.json``, ``jobs.json``; kept
    annotated videos ``videos/session-<id>.<ext>`` and kept uploads ``uploads/job-<id>.<ext>``."""
    path = temp_path(settings.data_dir, "zip")
    sessions = _sessions(db, patient)
    jobs = _jobs(db, [s.id for s in sessions])
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("account.json", _dump(account(db, patient)))
            notes, pain = [], []
            for row in sessions:
                d = detail(db, row)
                zf.writestr(f"sessions/{row.id}.json",
                            SessionDetail.model_validate(d).model_dump_json(indent=2, exclude_unset=True))
                zf.writestr(f"sessions/{row.id}.csv", to_csv(d))
                notes += [{"session_id": row.id, **n} for n in d["notes"]]
                pain += [{"session_id": row.id, **p} for p in d.get("pain", [])]
            zf.writestr("notes.json", _dump(notes))
            zf.writestr("pain.json", _dump(pain))
            zf.writestr("jobs.json", _dump([{"id": j.id, "session_id": j.session_id, "exercise": j.exercise,
                                             "status": j.status, "error": j.error,
                                             "created_at": j.created_at.isoformat()} for j in jobs]))
            for row in sessions:
                if _stored(VIDEOS, row.video_file) and store.exists(VIDEOS, row.video_file):
                    with store.local_copy(VIDEOS, row.video_file) as local:
                        zf.write(local, f"videos/session-{row.id}.{row.video_file.rsplit('.', 1)[1]}",
                                 compress_type=zipfile.ZIP_STORED)
            for job in jobs:
                if _stored(UPLOADS, job.upload_file) and store.exists(UPLOADS, job.upload_file):
                    with store.local_copy(UPLOADS, job.upload_file) as local:
                        zf.write(local, f"uploads/job-{job.id}.{job.upload_file.rsplit('.', 1)[1]}",
                                 compress_type=zipfile.ZIP_STORED)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def busy_sessions(db: Session, patient: User) -> list[int]:
    """The patient's sessions still recording or being analysed (erasure waits for them)."""
    query = select(ExerciseSession.id).where(ExerciseSession.patient_id == patient.id,
                                             ExerciseSession.status.in_(BUSY))
    return list(db.scalars(query))


def erase_rows(db: Session, patient: User) -> list[tuple[str, str]]:
    """Within the caller's transaction: delete every row of the patient (events, sets, notes, pain, jobs,
    sessions, level changes, the account); returns the stored files to remove once it commits."""
    session_ids = list(db.scalars(select(ExerciseSession.id).where(ExerciseSession.patient_id == patient.id)))
    files = [(VIDEOS, name) for name in db.scalars(
        select(ExerciseSession.video_file).where(ExerciseSession.patient_id == patient.id)) if _stored(VIDEOS, name)]
    if session_ids:
        files += [(UPLOADS, name) for name in db.scalars(select(Job.upload_file).where(Job.session_id.in_(session_ids)))
                  if _stored(UPLOADS, name)]
        for table in (Rep, Hold, Warning_, PainReport, Note, Job, ExerciseSet):
            db.execute(delete(table).where(table.session_id.in_(session_ids)))
        db.execute(delete(ExerciseSession).where(ExerciseSession.id.in_(session_ids)))
    db.execute(delete(LevelChange).where(LevelChange.patient_id == patient.id))
    db.delete(patient)
    return files


def remove_files(store: VideoStore, files: list[tuple[str, str]]) -> None:
    for kind, name in files:
        store.delete(kind, name)
