"""The exercise catalog: list and show exercises; therapists store new versions of a spec in the database."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from formcheck.storage.database import User
from formcheck.storage.specs import ExerciseSpecVersion, spec_versions
from server.api.deps import DB, CurrentUser, Therapist
from server.api.errors import Problem, not_found
from server.api.schemas.exercises import CatalogExercise, ExerciseDetail, SpecVersionOut
from server.core.validation import DB_ID_MAX, multi_line
from server.services.catalog import catalog_entry, catalog_infos, exercise_info, save_spec

router = APIRouter(prefix="/api/exercises", tags=["exercises"])
ExerciseId = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,80}$", description="catalog id, e.g. squat")]
MAX_SPEC_BYTES = 64 * 1024
SPEC_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
        "description": "the exercise spec (the fields of formcheck/exercises/*.yaml), as JSON or as YAML text",
    }
}


def _detail(exercise: str) -> dict[str, Any]:
    entry = catalog_entry(exercise)
    return {**exercise_info(exercise), "origin": entry.origin, "spec": entry.spec.model_dump(mode="json")}


def _version_out(db: DB, row: ExerciseSpecVersion) -> dict[str, Any]:
    author = db.get(User, row.author_id) if row.author_id else None
    return {"exercise_id": row.exercise_id, "version": row.version, "author": author.username if author else None,
            "created_at": row.created_at, "spec": row.spec}


async def _spec_body(request: Request) -> object:
    """The request body as parsed JSON, or as YAML text for any other content type."""
    raw = await request.body()
    if len(raw) > MAX_SPEC_BYTES:
        raise Problem(413, f"An exercise spec is at most {MAX_SPEC_BYTES // 1024} KB.", "Spec too large")
    try:
        data = yaml.safe_load(multi_line(raw.decode("utf-8")))  # YAML is a superset of JSON: one parser for both
        _check_strings(data)  # also what JSON escapes (\u0000) decode to
        return data
    except ValueError as exc:  # control characters, UnicodeDecodeError
        raise Problem(422, f"The spec cannot be read: it {exc}" if "must not" in str(exc) else
                      f"The spec cannot be read as JSON or YAML: {exc}", "Invalid exercise spec") from None
    except yaml.YAMLError as exc:
        raise Problem(422, f"The spec cannot be read as JSON or YAML: {exc}", "Invalid exercise spec") from None


def _check_strings(data: object) -> None:
    """``ValueError`` when a key or text anywhere in the parsed spec holds a control character."""
    if isinstance(data, str):
        multi_line(data)
    elif isinstance(data, dict):
        for key, value in data.items():
            _check_strings(key)
            _check_strings(value)
    elif isinstance(data, list):
        for value in data:
            _check_strings(value)


@router.get("", response_model=list[CatalogExercise])
def list_exercises(user: CurrentUser):
    """The exercise catalog, with each spec's source (builtin, folder or database)."""
    return catalog_infos()


@router.get("/{exercise}", response_model=ExerciseDetail)
def get_exercise(exercise: ExerciseId, user: CurrentUser):
    """One exercise and its whole spec."""
    return _detail(exercise)


@router.get("/{exercise}/versions", response_model=list[SpecVersionOut])
def list_versions(exercise: ExerciseId, user: CurrentUser, db: DB):
    """Every version of the exercise stored in the database, oldest first (empty for a file spec)."""
    rows = spec_versions(db, exercise)
    if not rows:
        catalog_entry(exercise)  # 404 for an exercise that does not exist at all
    return [_version_out(db, row) for row in rows]


@router.get("/{exercise}/versions/{version}", response_model=SpecVersionOut)
def get_version(exercise: ExerciseId, version: Annotated[int, Path(ge=1, le=DB_ID_MAX)], user: CurrentUser, db: DB):
    """One stored version of the exercise."""
    row = next((r for r in spec_versions(db, exercise) if r.version == version), None)
    if row is None:
        raise not_found("version of this exercise")
    return _version_out(db, row)


@router.put("/{exercise}", response_model=ExerciseDetail, openapi_extra=SPEC_BODY)
async def put_exercise(exercise: ExerciseId, request: Request, user: Therapist, db: DB):
    """Store a new version of the exercise's spec (a new exercise, or one that overrides the built-in or folder
    spec); validated like a spec file. Therapists only."""
    data = await _spec_body(request)
    if not isinstance(data, dict):
        raise Problem(422, f"exercise {exercise}: an exercise spec must be a mapping of fields (id, name, kind, ...)",
                      "Invalid exercise spec")
    return await run_in_threadpool(_store_version, db, exercise, data, user.id)


def _store_version(db: DB, exercise: str, data: dict[str, Any], author_id: int) -> dict[str, Any]:
    save_spec(db, exercise, data, author_id)
    db.commit()
    return _detail(exercise)
