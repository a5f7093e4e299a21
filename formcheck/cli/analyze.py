"""``formcheck analyze``: one recorded video through the frame loop, a summary, a JSON report, an annotated video."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import VIDEO_SUFFIXES, ModelOpt, app, check_output, fail, message_of, settings, write_json
from formcheck.cli.report import print_summary
from formcheck.pose.estimator import silence_native_logs
from formcheck.pose.models import ModelError

NOBODY = "nobody was seen in the video: make sure the whole body is in view"


def _open(video: str, exercise: str, model: str):
    """The analyzer, the source and the pose estimator, or a message saying what is wrong."""
    from formcheck.engine import create_analyzer
    from formcheck.io.sources import SourceError, open_source
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    try:
        analyzer = create_analyzer(exercise)
    except (KeyError, ValueError) as exc:
        fail(message_of(exc))
    try:
        source = open_source(video)
        estimator = PoseEstimator.create(PoseEstimatorOptions(model=model, models_dir=settings().models_dir))
    except (SourceError, ModelError) as exc:
        fail(str(exc))
    return analyzer, source, estimator


def _sinks(source, analyzer, model: str, annotated: Path | None, landmarks: Path | None):
    """The annotated-video writer (off the frame loop) and the landmark recorder, when asked for."""
    from formcheck.io.recording import PoseRecorder
    from formcheck.io.video import AnnotatedVideoWriter
    from formcheck.pipeline.sinks import ThreadedSink

    sinks = []
    if annotated:
        sinks.append(
            ThreadedSink(AnnotatedVideoWriter(annotated, source.fps, analyzer.exercise, model), name="annotate")
        )
    recorder = PoseRecorder({"source": source.name, "model": model}) if landmarks else None
    if recorder:
        sinks.append(recorder)
    return sinks, recorder


def _run(source, estimator, analyzer, sinks, progress: bool, max_stride: int | None = None,
         threads: int | None = None):
    """The frame loop over the whole source, with a progress bar on a terminal."""
    from tqdm import tqdm

    from formcheck.io.sources import SourceError
    from formcheck.pipeline.loop import run
    from formcheck.pipeline.sinks import CallbackSink
    from formcheck.pipeline.stride import StridePolicy

    bar = tqdm(total=source.frame_count or None, unit="frame", disable=not progress or not sys.stderr.isatty(),
               desc=source.name)
    try:
        return run(source, estimator, analyzer, sinks=[*sinks, CallbackSink(lambda _: bar.update())],
                   stride=StridePolicy(max_stride=max_stride) if max_stride else None, threads=threads)
    except SourceError as exc:
        fail(str(exc))
    finally:
        bar.close()
        estimator.close()
        source.close()


def _exit_status(result, data: dict) -> None:
    """Exit 2 for a video without frames, 3 when nobody was seen (said once)."""
    if result.frames == 0:
        fail("the video has no frames")
    if result.frames_with_person == 0:
        if NOBODY in data["notices"]:  # already printed as a note
            raise typer.Exit(3)
        fail(NOBODY, code=3)


@app.command()
def analyze(
    video: Annotated[str, typer.Argument(help="video file, GIF or image folder")],
    exercise: Annotated[str, typer.Option("--exercise", "-e", help="catalog exercise id or spec file; 'auto' "
                                          "recognises it from the motion")] = "auto",
    model: ModelOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON report here")] = None,
    annotated: Annotated[Path | None, typer.Option("--annotated", help="write a video with the skeleton drawn")] = None,
    landmarks: Annotated[Path | None, typer.Option("--landmarks", help="save the landmark stream (.npz)")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    max_stride: Annotated[int | None, typer.Option(help="adaptive frame stride: the pose model sees one frame in up "
                                                   "to this many while the body is still (1: every frame; default "
                                                   "FORMCHECK_MAX_STRIDE)", min=1, max=8)] = None,
    threads: Annotated[int | None, typer.Option(help="pose estimators working at once on parts of the video (default "
                                                "FORMCHECK_POSE_THREADS: one per core; one part with --annotated)",
                                                min=1, max=16)] = None,
) -> None:
    """Analyse a recorded video: count repetitions, time holds, warn about form; print a summary."""
    silence_native_logs()
    model = model or settings().model
    check_output(json_out, "--json")
    check_output(annotated, "--annotated", VIDEO_SUFFIXES)
    check_output(landmarks, "--landmarks", (".npz",))
    analyzer, source, estimator = _open(video, exercise, model)
    sinks, recorder = _sinks(source, analyzer, model, annotated, landmarks)
    result = _run(source, estimator, analyzer, sinks, progress, max_stride, threads)
    if recorder and recorder.poses:
        recorder.stream().save(landmarks)
    data = result.to_dict()
    write_json(json_out, data)
    print_summary(data)
    _exit_status(result, data)
