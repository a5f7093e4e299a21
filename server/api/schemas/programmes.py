"""Programmes: assigned exercise plans with targets (the exercise catalog schema is in exercises.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.core.validation import Line, Text


class ProgrammeItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exercise: Line = Field(min_length=1, max_length=80)
    sets: int = Field(1, ge=1, le=20)
    reps: int | None = Field(None, ge=1, le=200)
    hold_s: float | None = Field(None, gt=0, le=600)
    rest_s: float = Field(30, ge=0, le=600)
    warmup: bool = False

    @model_validator(mode="after")
    def _has_target(self) -> ProgrammeItemIn:
        if self.reps is None and self.hold_s is None:
            raise ValueError(f"exercise {self.exercise!r} needs a target: reps or hold_s")
        return self


class ProgrammeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line = Field(min_length=1, max_length=120)
    description: Text = Field("", max_length=2000)
    level: str = Field("custom", pattern=r"^(initial|intermediate|advanced|custom)$")
    items: list[ProgrammeItemIn] = Field(min_length=1, max_length=50)


class ProgrammeItemOut(ProgrammeItemIn):
    """A stored programme item (read back as written)."""

    model_config = ConfigDict(extra="ignore")


class ProgrammeOut(BaseModel):
    id: int
    name: str
    description: str
    level: str
    builtin: bool
    owner_id: int | None
    items: list[ProgrammeItemOut]


class TodayItem(ProgrammeItemIn):
    model_config = ConfigDict(extra="ignore")
    name: str = ""
    kind: str = ""
    instructions: list[str] = []
    camera: str = ""
    position: str = ""


class TodayProgramme(BaseModel):
    programme: ProgrammeOut | None
    level: str
    items: list[TodayItem]
