"""Scored sessions, notes and pain reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SessionSummary(BaseModel):
    id: int
    patient_id: int | None
    kind: str  # live | upload
    title: str
    programme: str | None
    status: str  # recording | queued | running | completed | failed | cancelled | interrupted
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    model: str
    rep_count: int
    avg_score: float | None
    warning_count: int
    pain_count: int


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10000)


class NoteOut(BaseModel):
    id: int
    author_id: int | None
    text: str
    created_at: datetime


class PainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=0, le=10)
    location: str = Field("", max_length=120)
    note: str = Field("", max_length=2000)
    t_s: float = Field(0.0, ge=0)


class SessionDetail(SessionSummary):
    """The scored session: per set the reps (start, end, score, faults), holds, warnings, pain, notes, series."""

    source: str
    frames: int
    frames_with_person: int
    notices: list
    error: str | None
    sets: list[dict]
    reps: list[dict]
    holds: list[dict]
    warnings: list[dict]
    pain: list[dict]
    notes: list[NoteOut]
    series: dict | None
    summary: dict
    video_url: str | None
    job: dict | None
