"""Pydantic schemas of the API, kept apart from the database tables."""

from server.api.schemas.jobs import JobOut, UploadAccepted
from server.api.schemas.programmes import ExerciseOut, ProgrammeIn, ProgrammeItemIn, ProgrammeOut, TodayProgramme
from server.api.schemas.sessions import NoteIn, NoteOut, PainIn, SessionDetail, SessionSummary
from server.api.schemas.users import (
    LevelChangeIn,
    LevelSuggestion,
    PatientCreate,
    PatientOut,
    PatientUpdate,
    TokenOut,
    UserOut,
)

__all__ = [
    "ExerciseOut",
    "JobOut",
    "LevelChangeIn",
    "LevelSuggestion",
    "NoteIn",
    "NoteOut",
    "PainIn",
    "PatientCreate",
    "PatientOut",
    "PatientUpdate",
    "ProgrammeIn",
    "ProgrammeItemIn",
    "ProgrammeOut",
    "SessionDetail",
    "SessionSummary",
    "TodayProgramme",
    "TokenOut",
    "UploadAccepted",
    "UserOut",
]
