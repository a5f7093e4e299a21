"""The exercise catalog as the server sees it: built-ins, the clinic's folder and the specs stored in the database
(versioned, edited by therapists). Configured once per process with :func:`configure_catalog`; the API accepts
only catalog ids (never paths)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.orm import Session

from formcheck.core.settings import Settings
from formcheck.engine.catalog import (
    EXERCISE_ID,
    RESERVED_IDS,
    Catalog,
    CatalogEntry,
    current_catalog,
    use_catalog,
)
from formcheck.engine.spec import ExerciseSpec, SpecError, parse_spec
from formcheck.storage.database import Store
from formcheck.storage.specs import ExerciseSpecVersion, add_spec_version, latest_specs, specs_stamp
from server.api.errors import Problem


class DatabaseSpecSource:
    """The newest version of each spec stored in the database, validated like a file; re-read only when a
    version has been added since the last look (one small query per lookup)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, CatalogEntry | SpecError] = {}

    def load(self) -> dict[str, CatalogEntry | SpecError]:
        with self._lock, self.store.session() as db:
            stamp = specs_stamp(db)
            if stamp != self._stamp:
                self._entries = {row.exercise_id: _entry(row) for row in latest_specs(db)}
                self._stamp = stamp
            return dict(self._entries)


def _entry(row: ExerciseSpecVersion) -> CatalogEntry | SpecError:
    origin = f"database version {row.version}"
    try:
        return CatalogEntry(parse_spec(row.spec, f"{row.exercise_id} ({origin})"), "database", origin, row.version)
    except SpecError as exc:
        return exc


def configure_catalog(settings: Settings, store: Store | None = None) -> Catalog:
    """Install the catalog of this process: built-ins, ``settings.exercise_dir`` and the database's specs."""
    store = store or Store(settings.db_url, migrate_schema=False)
    catalog = Catalog.from_settings(settings, extra=[DatabaseSpecSource(store)])
    use_catalog(catalog)
    return catalog


def exercise_ids() -> tuple[str, ...]:
    """Ids of the catalog's exercises."""
    return tuple(current_catalog().ids())


def check_exercise(exercise: str) -> str:
    """``exercise`` when it is a catalog id, else a 422 problem that lists the catalog."""
    ids = exercise_ids()
    if exercise in ids:
        return exercise
    raise Problem(422, f"Unknown exercise {exercise!r}. Choose one of: {', '.join(ids)}.", "Unknown exercise")


def recognition_available() -> bool:
    """Whether ``auto`` (recognising the exercise from the motion) can run: the engine ships it, so always."""
    return True


def _info(entry: CatalogEntry) -> dict[str, Any]:
    spec = entry.spec
    return {
        "id": spec.id, "name": spec.name, "level": spec.level, "kind": spec.kind, "position": spec.position,
        "view": spec.camera.view, "instructions": list(spec.instructions), "camera": spec.camera.hint,
        "targets": spec.targets.model_dump(), "source": entry.source, "version": entry.version,
    }


def exercise_info(exercise: str) -> dict[str, Any]:
    """Name, kind, position, how-to and camera text, default targets and source of a catalog exercise (a
    readable placeholder for an id outside the catalog, e.g. ``periodic``)."""
    try:
        return _info(current_catalog().entry(exercise))
    except (KeyError, SpecError):
        return {"id": exercise, "name": exercise.replace("_", " ").capitalize(), "level": "other", "kind": "reps",
                "position": "", "view": "", "instructions": [], "camera": "", "targets": {}, "source": "builtin",
                "version": None}


def catalog_infos() -> list[dict[str, Any]]:
    """:func:`exercise_info` of every catalog exercise."""
    return [_info(entry) for entry in current_catalog().entries().values()]


def catalog_entry(exercise: str) -> CatalogEntry:
    """The catalog entry of an id, or a 404 problem."""
    try:
        return current_catalog().entry(exercise)
    except KeyError:
        raise Problem(404, f"There is no exercise {exercise!r} in the catalog.", "Not found") from None
    except SpecError as exc:
        raise Problem(409, str(exc), "Broken exercise spec") from None


def validate_spec(exercise: str, data: object) -> ExerciseSpec:
    """``data`` as the spec of ``exercise`` (its id filled in when left out), or a 422 problem saying why."""
    if not EXERCISE_ID.match(exercise) or exercise in RESERVED_IDS:
        raise Problem(422, f"{exercise!r} cannot be an exercise id: use lower-case letters, digits and _ "
                      f"(not {', '.join(sorted(RESERVED_IDS))}).", "Invalid exercise id")
    if isinstance(data, dict):
        data = {"id": exercise, **data}
        if data["id"] != exercise:
            raise Problem(422, f"The spec's id {data['id']!r} differs from the exercise {exercise!r} in the URL.",
                          "Invalid exercise spec")
    try:
        return parse_spec(data, f"exercise {exercise}")
    except SpecError as exc:
        raise Problem(422, str(exc), "Invalid exercise spec") from None


def save_spec(db: Session, exercise: str, data: dict[str, Any], author_id: int | None) -> ExerciseSpecVersion:
    """Validate ``data`` and store it as the next version of ``exercise`` (the caller commits)."""
    validate_spec(exercise, data)
    return add_spec_version(db, exercise, {"id": exercise, **data}, author_id)
