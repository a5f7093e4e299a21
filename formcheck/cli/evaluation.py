"""``formcheck eval`` (clips with ground truth) and ``formcheck eval-datasets`` (landmark-level datasets)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import ModelOpt, app, check_output, fail, settings, write_json
from formcheck.pose.estimator import silence_native_logs


def _clip_bar(progress: bool):
    from tqdm import tqdm

    def bar(items):
        return tqdm(items, unit="clip", disable=not progress or not sys.stderr.isatty(), desc="eval")

    return bar


@app.command("eval")
def eval_clips(
    folder: Annotated[Path, typer.Argument(help="folder with ground_truth.csv and the clips it lists")],
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    model: ModelOpt = None,
    cache: Annotated[Path | None, typer.Option(help="landmark streams folder (<clip>.npz): reused, or written")] = None,
    auto: Annotated[bool, typer.Option("--auto", help="recognise each clip's exercise (as --exercise auto)")] = False,
    derived: Annotated[bool, typer.Option("--derived", help="also evaluate mirrored, sped-up/slowed, looped and "
                                          "dropout variants of each scored clip (docs/evaluation.md)")] = False,
    sensitivity: Annotated[bool, typer.Option("--sensitivity", help="also move every threshold of each clip's "
                                              "spec by -10% and +10%, one at a time: how many outcomes change")]
    = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Accuracy on clips with ground truth: repetition counts, holds, fault detection (runs the real model)."""
    silence_native_logs()
    check_output(json_out, "--json")
    from formcheck.evaluation.clips import EvalError, evaluate_dir, format_table, results_json

    model, bar = model or settings().model, _clip_bar(progress)
    try:
        results, summary = evaluate_dir(folder, cache=cache, model=model, progress=bar, auto=auto)
    except EvalError as exc:
        fail(str(exc))
    typer.echo(format_table(results, summary))
    out = results_json(results, summary)
    if derived:
        from formcheck.evaluation.clips import derived_json, evaluate_derived, format_derived

        by_name, derived_summary = evaluate_derived(folder, cache=cache, model=model, progress=bar)
        typer.echo("\n" + format_derived(by_name, derived_summary))
        out["derived"] = derived_json(by_name, derived_summary)
    if sensitivity:
        from formcheck.evaluation.sensitivity import format_sensitivity
        from formcheck.evaluation.sensitivity import sensitivity as measure_sensitivity

        moved = measure_sensitivity(folder, cache=cache, model=model, progress=bar)
        typer.echo("\n" + format_sensitivity(moved))
        out["sensitivity"] = moved.to_dict()
    write_json(json_out, out)
    if summary["crashes"]:
        typer.secho(f"{summary['crashes']} clip(s) could not be analysed (see the table)", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(1)


@app.command("eval-datasets")
def eval_datasets(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    only: Annotated[list[str] | None, typer.Option(help="keraal, ui_prmd or repcount (default: all)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    model: ModelOpt = None,
    cache: Annotated[Path | None, typer.Option(help="landmark streams of the KERAAL videos (reused, or written)")]
    = None,
    live: Annotated[bool, typer.Option("--live", help="RepCount: also count frame by frame as live use does")]
    = False,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    """Landmark-level accuracy: KERAAL (faults, side), UI-PRMD (correct vs incorrect), RepCount (counts)."""
    silence_native_logs()
    check_output(json_out, "--json")
    from tqdm import tqdm

    from formcheck.evaluation.dataset_eval import evaluate_datasets, format_datasets
    from formcheck.evaluation.datasets import DatasetError

    def bar(items, desc=""):
        return tqdm(items, desc=desc, disable=not progress or not sys.stderr.isatty(), leave=False)

    if not data.is_dir():
        fail(f"data folder {data} not found (use --data)")
    try:
        res = evaluate_datasets(data, only or ("keraal", "ui_prmd", "repcount"), cache=cache,
                                model=model or settings().model, progress=bar, live=live)
    except (DatasetError, ValueError) as exc:
        fail(str(exc))
    typer.echo(format_datasets(res))
    write_json(json_out, res, default=str)
