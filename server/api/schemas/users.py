"""Accounts, tokens, patients and levels."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.api.schemas.common import UtcDatetime
from server.core.validation import DbId, Line

Level = Literal["initial", "intermediate", "advanced"]
USERNAME = r"^[A-Za-z0-9_.@-]{3,80}$"


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds
    role: str
    user_id: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: str
    display_name: str
    level: str | None = None
    therapist_id: int | None = None
    video_on_device_only: bool = False  # live: the pose runs on the device, no video frames go to the server


class MySettings(BaseModel):
    """The account's own settings."""

    model_config = ConfigDict(extra="forbid")
    video_on_device_only: bool


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Line = Field(pattern=USERNAME, description="3-80 letters, digits or _ . @ -")
    password: Line = Field(min_length=8, max_length=200)
    display_name: Line = Field("", max_length=120)
    level: Level = "initial"


class PatientErase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: Line = Field(max_length=80, description="the patient's username, to confirm the erasure")


class PatientUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Line | None = Field(None, max_length=120)
    level: Level | None = None
    programme_id: DbId | None = None
    keep_videos: bool | None = None
    video_on_device_only: bool | None = None


class PatientOut(BaseModel):
    id: int
    username: str
    display_name: str
    level: str
    programme_id: int | None
    programme: str | None
    keep_videos: bool
    video_on_device_only: bool = False
    last_session_at: UtcDatetime | None
    sessions_done: int
    sessions_planned: int
    adherence: float | None
    adherence_text: str = ""  # e.g. "3 of 4 planned sessions in the last 7 days (75%)"
    flags: list[str]


class LevelSuggestion(BaseModel):
    suggest: bool
    to_level: str | None
    reason: str


class LevelChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Level
    accept: bool = True
