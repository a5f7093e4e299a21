"""Uploads and background analysis jobs."""

from __future__ import annotations

from pydantic import BaseModel


class UploadAccepted(BaseModel):
    job_id: int
    session_id: int


class JobOut(BaseModel):
    id: int
    status: str  # queued | running | done | failed | cancelled
    progress: float  # 0-100
    session_id: int
    exercise: str
    attempts: int
    error: str | None
