"""The audit log: who opened, exported, changed or erased which patient's data, when (UTC) and from where.

:func:`record` adds the entry to the request's own database transaction and commits it before the route builds
its answer, so a data response is never sent without its entry: when the write fails, the request fails (500)
and nothing is shown. Entries carry ids and names only, never health data, and outlive an erased patient.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from formcheck.storage.database import AuditEntry, User

ACTIONS = (
    "login",
    "login.failed",
    "session.view",
    "session.export_json",
    "session.export_csv",
    "session.report_pdf",
    "session.video",
    "session.note",
    "patient.level",
    "patient.export",
    "patient.erase",
)


def client_address(request: Request | None) -> str:
    return (request.client.host if request is not None and request.client else "")[:64]


def record(
    db: Session,
    request: Request | None,
    user: User | None,
    action: str,
    *,
    patient_id: int | None = None,
    session_id: int | None = None,
    username: str | None = None,
    commit: bool = True,
) -> AuditEntry:
    """Write one entry (committed unless ``commit`` is False: then it joins the caller's transaction)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        username=(user.username if user is not None else username or "")[:80],
        role=user.role if user is not None else "",
        action=action,
        patient_id=patient_id,
        session_id=session_id,
        address=client_address(request),
    )
    db.add(entry)
    if commit:
        db.commit()
    return entry


def entries(
    db: Session,
    *,
    patient_id: int | None = None,
    user_id: int | None = None,
    username: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries matching every given filter, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if patient_id is not None:
        query = query.where(AuditEntry.patient_id == patient_id)
    if user_id is not None:
        query = query.where(AuditEntry.user_id == user_id)
    if username is not None:
        query = query.where(AuditEntry.username == username)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(db.scalars(query.offset(offset).limit(limit)))
