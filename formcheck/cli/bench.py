"""``formcheck bench``: speed per stage and per model (speed is measured here, never asserted in tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import app, check_output, fail, write_json
from formcheck.pose.estimator import silence_native_logs
from formcheck.pose.models import ModelError


@app.command()
def bench(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
    models: Annotated[str, typer.Option(help="comma-separated models")] = "lite,full,heavy",
    frames: Annotated[int, typer.Option(help="frames of the sample clip to use", min=1)] = 300,
) -> None:
    """Speed: per-stage ms per frame, fps per model, pipeline vs bare inference, peak memory."""
    silence_native_logs()
    from formcheck.bench.pipeline import format_table, measure
    from formcheck.io.sources import SourceError

    check_output(json_out, "--json")
    try:
        result = measure(tuple(m.strip() for m in models.split(",") if m.strip()), max_frames=frames)
    except (ModelError, SourceError) as exc:
        fail(str(exc))
    typer.echo(format_table(result))
    write_json(json_out, result)
