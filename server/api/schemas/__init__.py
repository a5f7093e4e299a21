"""Pydantic schemas of the API, kept apart from the database tables."""

from server.api.schemas.jobs import JobOut, UploadAccepted
from server.api.schemas.programmes import ProgrammeIn, ProgrammeItemIn, ProgrammeOut, TodayProgramme
from server.api.schemas.sessions import (
    HoldOut,
    NoteIn,
    NoteOut,
    PainIn,
    PainOut,
    PainRecorded,
    RecognitionOut,
    RepOut,
    SessionDetail,
    SessionSummary,
    SetOut,
    SummaryOut,
    WarningOut,
)
from server.api.schemas.users import (
    LevelChangeIn,
    LevelSuggestion,
    PatientCreate,
    PatientErase,
    PatientOut,
    PatientUpdate,
    TokenOut,
    UserOut,
)

__all__ = [
    "HoldOut",
    "JobOut",
    "LevelChangeIn",
    "LevelSuggestion",
    "NoteIn",
    "NoteOut",
    "PainIn",
    "PainOut",
    "PainRecorded",
    "PatientCreate",
    "PatientErase",
    "PatientOut",
    "PatientUpdate",
    "ProgrammeIn",
    "ProgrammeItemIn",
    "ProgrammeOut",
    "RecognitionOut",
    "RepOut",
    "SessionDetail",
    "SessionSummary",
    "SetOut",
    "SummaryOut",
    "TodayProgramme",
    "TokenOut",
    "UploadAccepted",
    "UserOut",
    "WarningOut",
]
