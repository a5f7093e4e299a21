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
    frames: Annotated[int, typer.Option(help="frames of the clip (the sample, played again from its start when "
                                           "shorter; parts need a clip of at least 6 s)", min=1)] = 900,
    max_stride: Annotated[int | None, typer.Option(help="adaptive stride measured against the stride "
                                                   "off (default 3)", min=2, max=8)] = None,
    threads: Annotated[int | None, typer.Option(help="parts estimated at once (default FORMCHECK_POSE_THREADS)",
                                                min=1, max=16)] = None,
    repeat: Annotated[int, typer.Option(help="rounds of bare inference and the pipeline in parts back to back; the "
                                             "round with the median ratio is shown", min=1, max=10)] = 3,
) -> None:
    """Speed: per-stage ms per frame, fps per model, the offline pipeline (in parts, in one part, with the stride)
    vs bare inference, x real time with and without the annotated video, its size vs the source, peak memory."""
    silence_native_logs()
    from formcheck.bench.pipeline import format_table, measure
    from formcheck.io.sources import SourceError

    check_output(json_out, "--json")
    try:
        result = measure(tuple(m.strip() for m in models.split(",") if m.strip()), max_frames=frames,
                         max_stride=max_stride, threads=threads, repeat=repeat)
    except (ModelError, SourceError) as exc:
        fail(str(exc))
    typer.echo(format_table(result))
    write_json(json_out, result)


@app.command("bench-live")
def bench_live(
    clip: Annotated[Path, typer.Option(help="real clip whose landmarks and frames the clients replay")] = Path(
        "samples/squat_side.mp4"),
    landmark_clients: Annotated[int, typer.Option(help="simulated patients in landmarks mode", min=0)] = 50,
    frame_clients: Annotated[int, typer.Option(help="simulated patients in frames mode", min=0)] = 20,
    seconds: Annotated[float, typer.Option(help="length of each round", min=1)] = 20.0,
    model: Annotated[str, typer.Option(help="pose model (the page's and the server's)")] = "full",
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
) -> None:
    """Live load: server CPU per patient, patients per core, health latency and memory, landmarks vs frames mode."""
    silence_native_logs()
    from formcheck.bench.live_load import format_live_load, measure_live_load
    from formcheck.io.sources import SourceError

    check_output(json_out, "--json")
    try:
        result = measure_live_load(clip, landmark_clients, frame_clients, seconds, model)
    except (ModelError, SourceError) as exc:
        fail(str(exc))
    typer.echo(format_live_load(result))
    write_json(json_out, result)


@app.command("bench-page")
def bench_page(
    clip: Annotated[Path, typer.Option(help="real clip played by Chromium's fake webcam")] = Path(
        "samples/squat_side.mp4"),
    models: Annotated[str, typer.Option(help="comma-separated on-device models")] = "lite,full",
    start: Annotated[float, typer.Option(help="segment start (s)")] = 6.5,
    end: Annotated[float, typer.Option(help="segment end (s)")] = 20.5,
    fps: Annotated[int, typer.Option(help="fake webcam frame rate", min=1, max=60)] = 30,
    exercise: Annotated[str, typer.Option(help="catalog exercise id")] = "squat",
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
) -> None:
    """On-device pose in headless Chromium: page fps per model, the page's count vs formcheck analyze's."""
    silence_native_logs()
    from formcheck.bench.live_page import format_page, measure_page

    check_output(json_out, "--json")
    try:
        result = measure_page(clip, tuple(m.strip() for m in models.split(",") if m.strip()), start, end, fps,
                              exercise)
    except (ModelError, FileNotFoundError) as exc:
        fail(str(exc))
    typer.echo(format_page(result))
    write_json(json_out, result)


@app.command("bench-jobs")
def bench_jobs(
    clip: Annotated[Path, typer.Option(help="clip uploaded in every run")] = Path("samples/squat_side.mp4"),
    exercise: Annotated[str, typer.Option(help="catalog exercise id")] = "squat",
    uploads: Annotated[int, typer.Option(help="clips uploaded at once per configuration", min=1)] = 4,
    workers: Annotated[str, typer.Option(help="comma-separated worker process counts")] = "1,2",
    depths: Annotated[str, typer.Option(help="comma-separated queue depths for the latency curve")] = "1,2,4",
    database_url: Annotated[str | None, typer.Option(help="database of the distributed runs (e.g. a PostgreSQL "
                                                     "URL); default: a SQLite file in a temporary folder")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
) -> None:
    """Analysis throughput per worker process: the in-process default beside Celery workers (a private
    redis-server), for each worker count; latency from upload to report, and against queue depth."""
    import tempfile

    from formcheck.bench.jobs import REDIS_SERVER, format_result, measure_jobs
    from formcheck.io.sources import SourceError, VideoFileSource

    try:
        VideoFileSource(clip).close()
    except SourceError as exc:
        fail(str(exc))
    if not Path(REDIS_SERVER).is_file():
        fail(f"redis-server not found ({REDIS_SERVER}); install it (apt-get install redis-server)")
    check_output(json_out, "--json")
    counts = tuple(int(w) for w in workers.split(",") if w.strip())
    queue_depths = tuple(int(d) for d in depths.split(",") if d.strip())
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-db-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = measure_jobs(clip, exercise, url, uploads=uploads, depths=queue_depths, workers=counts)
    typer.echo(format_result(result))
    write_json(json_out, result)
