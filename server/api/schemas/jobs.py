"""Uploads and background analysis jobs."""

from __future__ import annotations

from pydantic import BaseModel

from server.api.schemas.sessions import RecognitionOut


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
    recognition: RecognitionOut | None = None  # once done: the exercise analysed (recognised for "auto") and how sure
