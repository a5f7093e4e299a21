"""The plan of a live session from ``--exercise`` or ``--program``, with errors written for the person."""

from __future__ import annotations

from formcheck.coaching.plan import PlanItem, plan_for_programme, plan_item
from formcheck.live.options import LiveError
from formcheck.programmes import ProgrammeError, load_programme


def build_plan(exercise: str | None, programme: str | None) -> tuple[str, str | None, list[PlanItem]]:
    """(title, programme name, plan) for ``--exercise`` or ``--program``; clear errors for unknown names."""
    if programme:
        try:
            prog = load_programme(programme)
            plan = plan_for_programme(prog)
        except ProgrammeError as exc:
            raise LiveError(str(exc)) from None
        except KeyError as exc:
            raise LiveError(f"programme {programme!r} uses an exercise the catalog lacks: {exc.args[0]}") from None
        return prog.title or prog.name, prog.name, plan
    if not exercise:
        raise LiveError("choose an exercise (--exercise ID) or a programme (--program NAME)")
    try:
        item = plan_item(exercise)
    except KeyError as exc:
        raise LiveError(str(exc.args[0] if exc.args else exc)) from None
    except ValueError as exc:
        raise LiveError(str(exc)) from None
    return item.name, None, [item]
