"""The exercise catalog: built-in, the clinic's folder and specs stored in the database (versioned)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from server.api.schemas.common import UtcDatetime

Source = Literal["builtin", "folder", "database"]


class CatalogExercise(BaseModel):
    """One exercise as lists and pickers show it, and where its spec comes from."""

    id: str
    name: str
    level: str
    kind: str
    position: str
    view: str
    instructions: list[str]
    camera: str
    targets: dict[str, Any]
    source: Source
    version: int | None = None  # database specs: the version in use


class ExerciseDetail(CatalogExercise):
    """One exercise with its whole spec (every field, defaults filled in)."""

    origin: str  # the spec file, or "database version N"
    spec: dict[str, Any]


class SpecVersionOut(BaseModel):
    """One stored version of an exercise spec (the fields as the therapist gave them)."""

    exercise_id: str
    version: int
    author: str | None
    created_at: UtcDatetime
    spec: dict[str, Any]
