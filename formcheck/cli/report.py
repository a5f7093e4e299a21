"""The summary ``formcheck analyze`` prints: the report (``AnalysisResult.to_dict()``) in words."""

from __future__ import annotations

import typer

MAX_WARNINGS_SHOWN = 10


def readable(rule_id: str) -> str:
    """A rule id as words ('hips_sagging' -> 'hips sagging')."""
    return rule_id.replace("_", " ")


def _header(d: dict) -> None:
    typer.echo(
        f"{d['source']}: {d['exercise']}, {d['frames']} frame{'' if d['frames'] == 1 else 's'} "
        f"({d['duration_s']:.1f} s), "
        f"person in {d['frames_with_person']} frames, model {d['model']}"
    )
    rec = d.get("recognition")
    if rec and rec["method"] != "given":
        typer.echo(f"recognised: {rec['exercise']} (confidence {rec['confidence']:.2f})"
                   if rec["method"] == "recognised" else "exercise not recognised: counted any repeated movement")


def _kind(exercise: str) -> str:
    """'reps', 'hold' or 'rate' of a catalog exercise ('reps' for any other id: auto, periodic, a file)."""
    from formcheck.engine import load_spec

    try:
        return load_spec(exercise).kind
    except (KeyError, ValueError, OSError):
        return "reps"


def _reps_and_holds(d: dict) -> None:
    if d["rep_count"] or _kind(d["exercise"]) != "hold":  # a hold-only exercise has no repetitions to count
        typer.echo(f"repetitions: {d['rep_count']}")
    elif not d["holds"]:
        typer.echo("holds: none (the position was not reached and held)")
    for r in d["reps"]:
        faults = ", ".join(readable(f) for f in r["faults"]) or "good form"
        if "counted_by" in (r.get("score_parts") or {}):  # counted by the periodic counter: range and form not measured
            faults, score = "not scored (counted as a repeated movement)", ""
        else:
            score = f"score {r['score']:.0f}  "
        typer.echo(f"  #{r['index']}: {r['start_s']:.1f}-{r['end_s']:.1f} s  {score}{faults}")
    for h in d["holds"]:
        target = f" (target {h['target_s']:g} s)" if h.get("target_s") else ""
        faults = ", ".join(readable(f) for f in h.get("faults") or [])
        typer.echo(f"hold {h['start_s']:.1f}-{h['end_s']:.1f} s: {h['duration_s']:.1f} s{target}"
                   + (f"  {faults}" if faults else ""))


def _warnings_and_notices(d: dict) -> None:
    warnings = d["warnings"]
    if warnings:
        typer.echo(f"form warnings: {len(warnings)}")
        for w in warnings[:MAX_WARNINGS_SHOWN]:
            typer.echo(f"  {w['t_s']:6.1f} s  {w['message']}")
        if len(warnings) > MAX_WARNINGS_SHOWN:
            typer.echo(f"  ... and {len(warnings) - MAX_WARNINGS_SHOWN} more (all of them are in the --json report)")
    for n in d["notices"]:
        typer.secho(f"note: {n}", fg=typer.colors.YELLOW)


def print_summary(d: dict) -> None:
    """Print a report as a few lines for a person."""
    _header(d)
    _reps_and_holds(d)
    _warnings_and_notices(d)
