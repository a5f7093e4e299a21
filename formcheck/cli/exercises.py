"""``formcheck exercises``: the catalog (built-ins and the clinic's exercise folder), or one exercise in full."""

from __future__ import annotations

from typing import Annotated

import typer

from formcheck.cli.app import app, fail, message_of
from formcheck.engine.spec import ExerciseSpec


def _list() -> None:
    from formcheck.engine import current_catalog

    catalog = current_catalog()
    typer.echo(f"{'ID':24s} {'LEVEL':12s} {'KIND':5s} {'POSITION':11s} NAME")
    for ex, entry in catalog.entries().items():
        spec = entry.spec
        typer.echo(f"{ex:24s} {spec.level:12s} {spec.kind:5s} {spec.position:11s} {spec.name}")
    for problem in catalog.problems():  # a broken file hides only its own exercise
        typer.secho(f"warning: {problem}", fg=typer.colors.YELLOW, err=True)


def _rule_lines(spec: ExerciseSpec) -> list[str]:
    lines = []
    for rule in spec.rules:
        bounds = " and ".join(f"{word} {v:g}" for word, v in (("at least", rule.min), ("at most", rule.max))
                              if v is not None)
        about = f" - {rule.doc}" if rule.doc else ""
        lines.append(f"  rule {rule.id} ({rule.severity}, {rule.signal} {bounds}): \"{rule.message}\"{about}")
    return lines


def _show(spec: ExerciseSpec) -> None:
    side = {"both": "both sides together", "alternating": "sides alternating", "auto": "either side",
            "left": "left side", "right": "right side"}[spec.side]
    typer.echo(f"{spec.name} ({spec.id}): {spec.level}, {spec.kind}, {spec.position}, {side}")
    hint = spec.camera.hint
    view = f"{spec.camera.view} view"
    typer.echo(f"camera: {hint}" if hint.lower().startswith(view) else f"camera: {view}; {hint}")
    for line in spec.instructions:
        typer.echo(f"  - {line}")
    typer.echo(spec.doc)
    for line in _rule_lines(spec):
        typer.echo(line)
    t = spec.targets
    hold = f", hold {spec.hold_target_s:g} s" if spec.hold_target_s else ""
    typer.echo(f"targets: reps {t.reps or '-'}, sets {t.sets}{hold}, rest {t.rest_s:g} s")


@app.command()
def exercises(
    exercise: Annotated[str | None, typer.Argument(help="catalog id or spec file: show it (default: list all)")] = None,
) -> None:
    """List the exercise catalog, or show one exercise (also checks a therapist's own spec file)."""
    from formcheck.engine import load_spec

    if exercise is None:
        _list()
        return
    try:
        spec = load_spec(exercise)
    except (KeyError, ValueError) as exc:
        fail(message_of(exc))
    _show(spec)
