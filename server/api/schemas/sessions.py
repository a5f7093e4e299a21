"""Scored sessions, notes and pain reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.api.schemas.common import UtcDatetime
from server.core.validation import Line, Text


class SessionSummary(BaseModel):
    id: int
    patient_id: int | None
    kind: str  # live | upload
    title: str
    programme: str | None
    status: str  # recording | queued | running | completed | failed | cancelled | interrupted
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    duration_s: float
    model: str
    rep_count: int
    avg_score: float | None
    warning_count: int
    pain_count: int


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=10000)


class NoteOut(BaseModel):
    id: int
    author_id: int | None
    text: str
    created_at: UtcDatetime


class PainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=0, le=10)
    location: Line = Field("", max_length=120)
    note: Text = Field("", max_length=2000)
    t_s: float | None = Field(
        None, ge=0, le=24 * 3600, allow_inf_nan=False, description="seconds into the session; default: its end"
    )


class RecognitionCandidate(BaseModel):
    exercise: str
    score: float


class RecognitionOut(BaseModel):
    """Which exercise was analysed and how sure: ``given`` (named), ``recognised`` or ``fallback``."""

    exercise: str
    confidence: float  # 0-1
    method: str
    candidates: list[RecognitionCandidate] = []


class ScorePart(BaseModel):
    """One part of a repetition's score, explained: ``points`` of ``of``, and why."""

    points: float
    of: float
    note: str = ""


class RepOut(BaseModel):
    exercise: str
    index: int
    start_s: float
    end_s: float
    score: float  # 0-100
    faults: list[str]
    range_of_motion: float
    tempo_s: float
    score_parts: dict[str, ScorePart]  # e.g. range_of_motion, control, form
    side: str | None


class HoldOut(BaseModel):
    exercise: str
    start_s: float
    end_s: float
    duration_s: float
    target_s: float
    faults: list[str]


class WarningOut(BaseModel):
    exercise: str
    t_s: float
    rule: str
    message: str
    severity: str  # info | warning | error
    confidence: float = 1.0  # 0.5..1: how clearly past its threshold, how well its joints were seen


class PainOut(BaseModel):
    exercise: str
    t_s: float
    rating: int  # 0-10
    location: str
    note: str


class PainRecorded(BaseModel):
    id: int
    t_s: float
    rating: int
    location: str
    note: str


class SetOut(BaseModel):
    id: int
    exercise: str
    set_index: int
    target_reps: int | None
    target_hold_s: float | None
    started_s: float
    ended_s: float | None
    status: str  # active | done | skipped | stopped
    reps_done: int
    avg_score: float | None
    hold_s: float


class ExerciseTotals(BaseModel):
    """Totals of one exercise (the analyzer may add its own, e.g. ``rate_per_min``)."""

    model_config = ConfigDict(extra="allow")
    reps: int
    holds: int
    avg_score: float | None = None
    longest_hold_s: float | None = None
    total_hold_s: float | None = None


class SummaryOut(ExerciseTotals):
    """Session totals, and per exercise under ``by_exercise`` (a live session adds its tallies)."""

    warnings: int | None = None
    max_pain: int | None = None
    by_exercise: dict[str, ExerciseTotals] = {}


SignalSeries = dict[str, list[float | None] | dict[str, list[float | None]]]  # "t", signals, "target_band"


class JobBrief(BaseModel):
    id: int
    status: str
    progress: float
    error: str | None


class SessionDetail(SessionSummary):
    """The scored session: the keys of ``formcheck analyze --json`` (an ``AnalysisResult``) plus the session's
    metadata. Times in seconds, rounded to milliseconds."""

    exercise: str
    recognition: RecognitionOut | None
    source: str
    frames: int
    frames_with_person: int
    frames_with_several_people: int
    reps: list[RepOut]
    holds: list[HoldOut]
    warnings: list[WarningOut]
    pain: list[PainOut]
    notices: list[str]
    summary: SummaryOut
    series: dict[str, SignalSeries]  # {exercise id: {"t": [...], "<signal>": [...], "target_band": {...}}}
    error: str | None
    sets: list[SetOut]
    notes: list[NoteOut]
    video_url: str | None
    job: JobBrief | None
