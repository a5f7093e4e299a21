"""The ``formcheck`` Typer app and what every command shares: settings, failing with a message, output checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from formcheck.core.settings import Settings

app = typer.Typer(
    help="formcheck: exercise form checking for back-pain rehabilitation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="pose model: lite, full or heavy "
                                              "(default: full, or FORMCHECK_MODEL)")]
DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")]
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v")


def settings(**overrides) -> Settings:
    """The settings (``FORMCHECK_*`` variables, ``.env``), with the options given on the command line."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` in red and exit with ``code``."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def check_output(path: Path | None, what: str, suffixes: tuple[str, ...] = ()) -> None:
    """Fail with a clear message, before any work is done, when ``path`` cannot be written."""
    if path is None:
        return
    if path.is_dir():
        fail(f"{what}: {path} is a folder; give a file name inside it")
    if suffixes and path.suffix.lower() not in suffixes:
        fail(f"{what}: {path.name} must end in {' or '.join(suffixes)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        fail(f"{what}: cannot write {path} ({exc.strerror or exc})")


def write_json(path: Path | None, data: object, **dumps) -> None:
    """Write ``data`` as indented JSON to ``path`` (nothing when ``path`` is None)."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, **dumps))


def message_of(exc: Exception) -> str:
    """The message of a ``KeyError`` / ``ValueError`` without the quotes ``str(KeyError)`` adds."""
    return str(exc.args[0] if exc.args else exc)
