"""Audit log entries as the clinic admin reads them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from server.api.schemas.common import UtcDatetime


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: UtcDatetime
    user_id: int | None
    username: str
    role: str
    action: str
    patient_id: int | None
    session_id: int | None
    address: str
