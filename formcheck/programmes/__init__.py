"""Exercise programmes: ordered exercises with targets, stored as YAML data files.

Three programmes ship built in (``initial``, ``intermediate``, ``advanced``), following a standard
back-pain progression; each opens with a short warm-up of held stretches.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROGRAMME_DIR = Path(__file__).parent
LEVELS = ("initial", "intermediate", "advanced")


class ProgrammeError(ValueError):
    """A programme that cannot be found or read; the message is written for a person."""


class ProgrammeItem(BaseModel):
    """One exercise in a programme with its targets."""

    model_config = ConfigDict(extra="forbid")

    exercise: str = Field(min_length=1)
    sets: int = Field(default=1, ge=1, le=20)
    reps: int | None = Field(default=None, ge=1, le=200)
    hold_s: float | None = Field(default=None, gt=0, le=600)
    rest_s: float = Field(default=30, ge=0, le=600)
    warmup: bool = False

    @model_validator(mode="after")
    def _has_a_target(self) -> ProgrammeItem:
        if self.reps is None and self.hold_s is None:
            raise ValueError(f"exercise {self.exercise!r} needs a target: reps or hold_s")
        return self


class Programme(BaseModel):
    """An ordered list of exercises for one level."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    level: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    items: list[ProgrammeItem] = Field(min_length=1)

    def to_dict(self) -> dict:
        return self.model_dump()


def _builtin_paths() -> list[Path]:
    return sorted(PROGRAMME_DIR.glob("*.yaml"), key=lambda p: (_level_rank(p.stem), p.stem))


def _level_rank(name: str) -> int:
    return LEVELS.index(name) if name in LEVELS else len(LEVELS)


def _read(path: Path) -> Programme:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgrammeError(f"Cannot read the programme file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ProgrammeError(f"The programme file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProgrammeError(f"The programme file {path} must hold a mapping with name, level and items.")
    data.setdefault("name", path.stem)
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'programme'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ProgrammeError(f"The programme file {path} is invalid: {problems}") from None


def list_programmes() -> list[Programme]:
    """The built-in programmes, easiest level first."""
    return [_read(p) for p in _builtin_paths()]


def load_programme(name_or_path: str | Path) -> Programme:
    """A built-in programme by name (``initial``, ...) or a programme YAML file by path."""
    text = str(name_or_path)
    builtin = PROGRAMME_DIR / f"{text}.yaml"
    if "/" not in text and "\\" not in text and builtin.is_file():
        return _read(builtin)
    path = Path(text).expanduser()
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ProgrammeError(f"No programme file at {path}.")
        return _read(path)
    known = ", ".join(p.stem for p in _builtin_paths())
    raise ProgrammeError(f"Unknown programme {text!r}. Built-in programmes: {known}; or give a path to a YAML file.")


__all__ = ["LEVELS", "Programme", "ProgrammeError", "ProgrammeItem", "list_programmes", "load_programme"]
