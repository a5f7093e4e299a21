"""The audit log, for the clinic admin only (who did what to which patient's data, when, from where)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from server.api.deps import DB, Admin, PatientFilter
from server.api.schemas.audit import AuditOut
from server.core.validation import DB_ID_MAX, Line
from server.services import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])

Action = Literal[audit.ACTIONS]  # type: ignore[valid-type]


@router.get("", response_model=list[AuditOut])
def list_audit(
    user: Admin,
    db: DB,
    patient_id: PatientFilter = None,
    user_id: Annotated[int | None, Query(ge=1, le=DB_ID_MAX, description="only this account's actions")] = None,
    username: Annotated[Line | None, Query(max_length=80, description="only this username's actions")] = None,
    action: Annotated[Action | None, Query(description="only this action")] = None,
    since: Annotated[datetime | None, Query(description="only entries at or after this time (UTC if no zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Audit entries, newest first, filtered and paginated (``limit``, ``offset``). Clinic admins only."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return audit.entries(db, patient_id=patient_id, user_id=user_id, username=username, action=action, since=since,
                         limit=limit, offset=offset)
