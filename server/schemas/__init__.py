"""Pydantic schemas of the API, kept apart from the database tables."""

from server.schemas.jobs import JobOut, UploadAccepted
from server.schemas.programmes import ExerciseOut, ProgrammeIn, ProgrammeItemIn, ProgrammeOut, TodayProgramme
from server.schemas.sessions import NoteIn, NoteOut, PainIn, SessionDetail, SessionSummary
from server.schemas.users import (
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
