"""The exercise catalog: the built-in specs, the clinic's exercise folder and (on the server) specs stored in
the database, in that order; a later source overrides an earlier one with the same id.

Everything that lists or loads exercises goes through the active catalog (:func:`current_catalog`): by default the
built-ins plus ``Settings().exercise_dir``; the server installs one that also reads the database
(:func:`use_catalog`). Every source is validated by the same :class:`~formcheck.engine.spec.ExerciseSpec` model;
a broken file names itself and hides only its own exercise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from formcheck.core.settings import Settings
from formcheck.engine.spec import CATALOG_DIR, ExerciseSpec, SpecError, load_spec_file

Source = Literal["builtin", "folder", "database"]
EXERCISE_ID = re.compile(r"^[a-z0-9_]{1,80}$")
RESERVED_IDS = frozenset({"auto", "none", "periodic"})  # analyzer names, not catalog exercises
SPEC_SUFFIXES = (".yaml", ".yml", ".toml")


@dataclass(frozen=True)
class CatalogEntry:
    """One exercise of the catalog and where it came from."""

    spec: ExerciseSpec
    source: Source
    origin: str  # a file path, or "database version 3"
    version: int | None = None  # database specs: the version that is in use


class SpecSource(Protocol):
    """A place specs come from: ``load()`` gives each id its entry, or the error that makes it unusable."""

    def load(self) -> Mapping[str, CatalogEntry | SpecError]: ...


def is_path(exercise: str) -> bool:
    """Whether ``exercise`` names a spec file rather than a catalog id."""
    return exercise.endswith(SPEC_SUFFIXES) or "/" in exercise or "\\" in exercise


class FolderSource:
    """Spec files (``<id>.yaml``) in one folder; each file is parsed again only when it changes."""

    def __init__(self, folder: Path, source: Source = "folder"):
        self.folder, self.source = Path(folder), source
        self._parsed: dict[Path, tuple[tuple[int, int], CatalogEntry | SpecError]] = {}

    def load(self) -> dict[str, CatalogEntry | SpecError]:
        if not self.folder.is_dir():
            missing = SpecError(f"the exercise folder {self.folder} does not exist (FORMCHECK_EXERCISE_DIR)")
            return {} if self.source == "builtin" else {f"<{self.folder}>": missing}
        out: dict[str, CatalogEntry | SpecError] = {}
        files = sorted(p for p in self.folder.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
        for path in files:
            out[path.stem] = self._entry(path)
        return out

    def _entry(self, path: Path) -> CatalogEntry | SpecError:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._parsed.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        entry: CatalogEntry | SpecError
        if not EXERCISE_ID.match(path.stem) or path.stem in RESERVED_IDS:
            entry = SpecError(f"{path}: the file name must be the exercise id (lower-case letters, digits and _; "
                              f"not {', '.join(sorted(RESERVED_IDS))})")
        else:
            try:
                spec = load_spec_file(path)
            except SpecError as exc:
                message = str(exc)  # names the file; give its folder too
                entry = SpecError(f"{path.parent}/{message}" if message.startswith(path.name) else f"{path}: {message}")
            else:
                entry = (CatalogEntry(spec, self.source, str(path)) if spec.id == path.stem else
                         SpecError(f"{path}: id {spec.id!r} must match the file name ({path.stem})"))
        self._parsed[path] = (stamp, entry)
        return entry


class Catalog:
    """Exercises from ``sources`` (later ones override earlier ones)."""

    def __init__(self, sources: Sequence[SpecSource]):
        self.sources = list(sources)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, extra: Sequence[SpecSource] = ()) -> Catalog:
        """The built-ins, then the settings' ``exercise_dir`` (when set), then ``extra`` (e.g. the database)."""
        settings = settings or Settings()
        sources: list[SpecSource] = [_BUILTIN]
        if settings.exercise_dir is not None:
            sources.append(_folder(settings.exercise_dir))
        return cls([*sources, *extra])

    def _merged(self) -> dict[str, CatalogEntry | SpecError]:
        merged: dict[str, CatalogEntry | SpecError] = {}
        for source in self.sources:
            merged.update(source.load())
        return merged

    def entries(self) -> dict[str, CatalogEntry]:
        """The usable exercises by id, sorted."""
        return {k: v for k, v in sorted(self._merged().items()) if isinstance(v, CatalogEntry)}

    def problems(self) -> list[SpecError]:
        """Why some specs are not in the catalog (a broken file, a folder that does not exist ...)."""
        return [v for _, v in sorted(self._merged().items()) if isinstance(v, SpecError)]

    def ids(self) -> list[str]:
        """Ids of the usable exercises, sorted."""
        return list(self.entries())

    def entry(self, exercise_id: str) -> CatalogEntry:
        """The entry for an id: ``KeyError`` (listing the catalog) when unknown, ``SpecError`` when broken."""
        merged = self._merged()
        found = merged.get(exercise_id)
        if isinstance(found, SpecError):
            raise found
        if found is None:
            known = ", ".join(k for k, v in sorted(merged.items()) if isinstance(v, CatalogEntry))
            raise KeyError(f"unknown exercise {exercise_id!r}; choose one of: {known}, "
                           "or 'auto', or a path to a spec file")
        return found

    def get(self, exercise_id: str) -> ExerciseSpec:
        """The spec for a catalog id, or for a spec file's path."""
        if is_path(exercise_id):
            return load_spec_file(exercise_id)
        return self.entry(exercise_id).spec


_BUILTIN = FolderSource(CATALOG_DIR, "builtin")
_FOLDERS: dict[Path, FolderSource] = {}
_active: Catalog | None = None


def _folder(path: Path) -> FolderSource:
    """One source per folder, so its parsed files are kept between catalogs."""
    key = Path(path).expanduser().resolve()
    return _FOLDERS.setdefault(key, FolderSource(key))


def use_catalog(catalog: Catalog | None) -> None:
    """Make ``catalog`` the one every lookup uses (``None``: back to the default from the settings)."""
    global _active
    _active = catalog


def current_catalog() -> Catalog:
    """The installed catalog, else the built-ins plus the exercise folder of the current settings."""
    return _active if _active is not None else Catalog.from_settings()


def list_exercises() -> list[str]:
    """Ids of the catalog's exercises, sorted."""
    return current_catalog().ids()


def load_spec(exercise_id: str) -> ExerciseSpec:
    """The catalog spec for an id (or a path to a spec file). Unknown id -> ``KeyError`` listing the catalog."""
    return current_catalog().get(exercise_id)
