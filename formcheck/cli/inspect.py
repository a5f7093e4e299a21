"""``formcheck inspect``: a spec's signals on a clip against its thresholds, what was counted and why not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import ModelOpt, app, check_output, fail, message_of, settings
from formcheck.pose.estimator import silence_native_logs


@app.command()
def inspect(
    clip: Annotated[Path, typer.Argument(help="a video, or a landmark stream (.npz) saved with --landmarks")],
    exercise: Annotated[str, typer.Option("--exercise", "-e", help="catalog exercise id or spec file")],
    out: Annotated[Path, typer.Option("--out", "-o", help="write the plot here (PNG)")] = Path("inspect.png"),
    model: ModelOpt = None,
) -> None:
    """For tuning a spec: plot its signals over time with its thresholds, the repetitions, holds and warnings
    found, the margin by which each passed, and the movements that were not counted."""
    silence_native_logs()
    check_output(out, "--out", (".png",))
    from formcheck.engine import load_spec
    from formcheck.evaluation.clips import EvalError, video_stream
    from formcheck.evaluation.inspect import plot, report, trace
    from formcheck.io.recording import PoseStream
    from formcheck.io.sources import SourceError

    try:
        spec = load_spec(exercise)
    except (KeyError, ValueError) as exc:
        fail(message_of(exc))
    if not clip.exists():
        fail(f"{clip} not found")
    try:
        stream = PoseStream.load(clip) if clip.suffix == ".npz" else video_stream(clip, model or settings().model)
    except (EvalError, SourceError, OSError, ValueError) as exc:
        fail(str(exc))
    tr = trace(list(stream), spec)
    typer.echo(report(tr))
    typer.echo(f"plot: {plot(tr, out)}")
