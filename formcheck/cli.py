"""The ``formcheck`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.pose.estimator import silence_native_logs
from formcheck.pose.models import VARIANTS, ModelError

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


VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v")


def check_output(path: Path | None, what: str, suffixes: tuple[str, ...] = ()) -> None:
    """Fail with a clear message, before any work is done, when ``path`` cannot be written."""
    if path is None:
        return
    if path.is_dir():
        fail(f"{what}: {path} is a folder; give a file name inside it")
    if suffixes and path.suffix.lower() not in suffixes:
        fail(f"{what}: {path.name} must end in {' or '.join(suffixes)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        fail(f"{what}: cannot write {path} ({exc.strerror or exc})")


@models_app.command("build")
def models_build(
    variant: Annotated[list[str] | None, typer.Argument(help="lite, full, heavy (default: all)")] = None,
    force: Annotated[bool, typer.Option(help="rebuild bundles that are already present and valid")] = False,
) -> None:
    """Build models/pose_landmarker_{lite,full,heavy}.task from the pinned npm package and verify their sha256.

    Only missing or corrupt bundles are built unless --force is given."""
    from formcheck.pose.models import build_models, check_model

    variants = tuple(variant or VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        fail(f"unknown pose model {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
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
    from formcheck.pose.models import check_model

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
    silence_native_logs()
    from tqdm import tqdm

    from formcheck.engine import create_analyzer
    from formcheck.io.recording import PoseRecorder
    from formcheck.io.sources import SourceError, open_source
    from formcheck.io.video import AnnotatedVideoWriter
    from formcheck.pipeline.loop import run
    from formcheck.pipeline.sinks import CallbackSink, ThreadedSink
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    check_output(json_out, "--json")
    check_output(annotated, "--annotated", VIDEO_SUFFIXES)
    check_output(landmarks, "--landmarks", (".npz",))
    try:
        analyzer = create_analyzer(exercise)
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
        result = run(source, estimator, analyzer, sinks=[*sinks, CallbackSink(lambda _: bar.update())])
    except SourceError as exc:
        fail(str(exc))
    finally:
        bar.close()
        estimator.close()
        source.close()
    if recorder and recorder.poses:
        recorder.stream().save(landmarks)
    data = result.to_dict()
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, indent=2))
    _print_summary(data)
    if result.frames == 0:
        fail("the video has no frames")
    if result.frames_with_person == 0:
        nobody = "nobody was seen in the video: make sure the whole body is in view"
        if nobody in data["notices"]:  # already printed as a note
            raise typer.Exit(3)
        fail(nobody, code=3)


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
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


# --- server: serve, users, bench-server -------------------------------------------------------------------
users_app = typer.Typer(help="Accounts for the server (e.g. the first therapist).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port", min=1, max=65535)] = 8000,
    workers: Annotated[int | None, typer.Option(help="analysis worker processes (default: one per core)")] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")] = None,
) -> None:
    """Run the HTTP API and web pages (FastAPI + uvicorn); settings from FORMCHECK_* variables."""
    import os

    import uvicorn

    open_store_or_fail(server_db_url(db)).close()  # a wrong database URL: a message, not a startup traceback
    if workers is not None:
        os.environ["FORMCHECK_JOB_WORKERS"] = str(workers)
    if db:
        os.environ["FORMCHECK_DATABASE_URL"] = db
    from server.app import create_app

    typer.echo(f"formcheck server on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def server_db_url(db: str | None) -> str:
    """The database URL: --db, else the server settings (FORMCHECK_DATABASE_URL or SQLite in the data folder)."""
    from server.core.settings import Settings

    if db:
        return db
    settings = Settings()
    try:
        return settings.db_url
    except OSError as exc:
        fail(f"cannot create the data folder {settings.data_dir} ({exc.strerror or exc}); "
             "set FORMCHECK_DATA_DIR to a folder you can write to")


def open_store_or_fail(url: str):
    """Open the database, or fail with a message naming the URL (password hidden) and the reason."""
    from formcheck.live.app import LiveError, open_store

    try:
        return open_store(url)
    except LiveError as exc:
        fail(str(exc))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="therapist or patient")] = "therapist",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    display_name: Annotated[str, typer.Option(help="name shown in the pages")] = "",
    therapist: Annotated[str | None, typer.Option(help="for a patient: the therapist's username")] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")] = None,
) -> None:
    """Create an account (start here: the first therapist), in the server's database."""
    from server.services.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store_or_fail(server_db_url(db))
    try:
        user_id = create_user(store, username, password, role, display_name, therapist)
    except ValueError as exc:
        fail(str(exc))
    finally:
        store.close()
    typer.echo(f"created {role} {username!r} (id {user_id})")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="login name")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")] = None,
) -> None:
    """Set a new password for an account (someone who forgot theirs)."""
    from server.services.accounts import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    store = open_store_or_fail(server_db_url(db))
    try:
        set_password(store, username, password)
    except ValueError as exc:
        fail(str(exc))
    finally:
        store.close()
    typer.echo(f"new password set for {username!r}")


@users_app.command("list")
def users_list(
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")] = None,
) -> None:
    """The accounts: username, role, name, level, therapist."""
    from server.services.accounts import list_users

    store = open_store_or_fail(server_db_url(db))
    try:
        users = list_users(store)
    finally:
        store.close()
    names = {u.id: u.username for u in users}
    for u in users:
        therapist = f"  therapist {names.get(u.therapist_id, '-')}" if u.role == "patient" else ""
        typer.echo(f"{u.username:24s} {u.role:10s} {u.display_name}{therapist}" + ("" if u.active else "  (inactive)"))
    if not users:
        typer.echo("no accounts yet: create the first therapist with  formcheck users add NAME --role therapist")


@app.command("bench-server")
def bench_server(
    clip: Annotated[Path, typer.Option(help="video for uploads and the live stream")] = Path("samples/squat_side.mp4"),
    exercise: Annotated[str, typer.Option(help="catalog exercise id")] = "squat",
    uploads: Annotated[int, typer.Option(help="clips to upload at once", min=1)] = 4,
    workers: Annotated[int, typer.Option(help="analysis worker processes", min=1)] = 2,
    live_frames: Annotated[int, typer.Option(help="frames to stream over the live WebSocket", min=1)] = 150,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the numbers as JSON")] = None,
) -> None:
    """Start a real server and measure upload throughput (clips per minute) and live latency per frame."""
    from formcheck.bench.server import format_result, measure_server
    from formcheck.engine import list_exercises
    from formcheck.io.sources import SourceError, VideoFileSource

    if exercise not in list_exercises():
        fail(f"unknown exercise {exercise!r}; choose a catalog id (see formcheck exercises)")
    try:
        VideoFileSource(clip).close()
    except SourceError as exc:
        fail(str(exc))
    check_output(json_out, "--json")
    result = measure_server(clip, exercise, uploads=uploads, workers=workers, live_frames=live_frames)
    typer.echo(format_result(result))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


@app.command()
def live(
    camera: Annotated[int | None, typer.Option("--camera", help="camera index (default 0)")] = None,
    source: Annotated[str | None, typer.Option("--source", help="a video file instead of a camera")] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="play --source at its own speed, like a camera")] = False,
    exercise: Annotated[str | None, typer.Option("--exercise", "-e", help="catalog exercise id")] = None,
    program: Annotated[str | None, typer.Option("--program", "--programme", "-p",
                                                help="initial, intermediate, advanced or a YAML file")] = None,
    model: ModelOpt = "full",
    save_landmarks: Annotated[bool, typer.Option("--save-landmarks", help="also keep the landmark stream")] = False,
    mute: Annotated[bool, typer.Option("--mute", help="no spoken cues or beeps (key m toggles)")] = False,
    beeps: Annotated[bool, typer.Option("--beeps/--no-beeps", help="countdown beeps before sets")] = True,
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in the data folder)")] = None,
    screenshot_dir: Annotated[Path | None, typer.Option("--screenshot-dir", help="save what the window shows")] = None,
    auto_keys: Annotated[str | None, typer.Option("--auto-keys", help="scripted keys, e.g. '5:n,9:p,10:6'")] = None,
    intro: Annotated[float, typer.Option("--intro", help="seconds of how-to before each exercise")] = 8.0,
    summary_seconds: Annotated[float, typer.Option("--summary-seconds", help="close the summary after this")] = 30.0,
    window_size: Annotated[str, typer.Option("--window-size", help="WIDTHxHEIGHT of the preview")] = "1280x720",
    mirror: Annotated[bool | None, typer.Option("--mirror/--no-mirror", help="mirror (camera: yes)")] = None,
    window: Annotated[bool, typer.Option("--window/--no-window", help="show the preview window")] = True,
) -> None:
    """Coach a session in front of a camera: preview window, counts, cues, rests, pain stop; saved as it goes."""
    silence_native_logs()
    from formcheck.live.app import LiveError, LiveOptions, parse_auto_keys, run_live

    if camera is not None and source is not None:
        fail("give either --camera or --source, not both")
    if bool(exercise) == bool(program):
        fail("choose one: --exercise ID or --program NAME (initial, intermediate, advanced)")
    try:
        width, height = (int(v) for v in window_size.lower().split("x"))
        if not (320 <= width <= 3840 and 240 <= height <= 2160):
            raise ValueError
    except ValueError:
        fail(f"--window-size {window_size!r}: use WIDTHxHEIGHT, e.g. 1280x720 or 640x480")
    if screenshot_dir:
        try:
            screenshot_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--screenshot-dir: cannot create {screenshot_dir} ({exc.strerror or exc})")
    try:
        options = LiveOptions(
            source=source if source is not None else (camera or 0), realtime=realtime, exercise=exercise,
            programme=program, model=model, save_landmarks=save_landmarks, mute=mute, beeps=beeps, db_url=db,
            screenshot_dir=screenshot_dir, auto_keys=parse_auto_keys(auto_keys or ""), intro_s=intro,
            summary_s=summary_seconds, window_size=(width, height), mirror=mirror, show_window=window,
        )
        result = run_live(options, log=typer.echo)
    except LiveError as exc:
        fail(str(exc))
    if result.status == "interrupted":
        typer.secho("the session was interrupted; what was done is saved", fg=typer.colors.YELLOW)


@app.command("eval")
def eval_clips(
    folder: Annotated[Path, typer.Argument(help="folder with ground_truth.csv and the clips it lists")],
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    model: ModelOpt = "full",
    cache: Annotated[Path | None, typer.Option(help="landmark streams folder (<clip>.npz): reused, or written")] = None,
    auto: Annotated[bool, typer.Option("--auto", help="recognise each clip's exercise (as --exercise auto)")] = False,
    derived: Annotated[bool, typer.Option("--derived", help="also evaluate mirrored, sped-up/slowed, looped and "
                                          "dropout variants of each scored clip (docs/evaluation.md)")] = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Accuracy on clips with ground truth: repetition counts, holds, fault detection (runs the real model)."""
    silence_native_logs()
    check_output(json_out, "--json")
    from tqdm import tqdm

    from formcheck.evaluation.clips import EvalError, evaluate_dir, format_table, results_json

    def bar(items):
        return tqdm(items, unit="clip", disable=not progress or not sys.stderr.isatty(), desc="eval")

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
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(out, indent=2))
    if summary["crashes"]:
        typer.secho(f"{summary['crashes']} clip(s) could not be analysed (see the table)", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(1)


@app.command("eval-datasets")
def eval_datasets(
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    only: Annotated[list[str] | None, typer.Option(help="keraal, ui_prmd or repcount (default: all)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    model: ModelOpt = "full",
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
        res = evaluate_datasets(data, only or ("keraal", "ui_prmd", "repcount"), cache=cache, model=model,
                                progress=bar, live=live)
    except (DatasetError, ValueError) as exc:
        fail(str(exc))
    typer.echo(format_datasets(res))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(res, indent=2, default=str))


@app.command()
def exercises(
    exercise: Annotated[str | None, typer.Argument(help="catalog id or spec file: show it (default: list all)")] = None,
) -> None:
    """List the exercise catalog, or show one exercise (also checks a therapist's own spec file)."""
    from formcheck.engine import list_exercises, load_spec

    if exercise is None:
        for ex in list_exercises():
            spec = load_spec(ex)
            typer.echo(f"{ex:24s} {spec.level:12s} {spec.kind:5s} {spec.position:11s} {spec.name}")
        return
    try:
        spec = load_spec(exercise)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0] if exc.args else exc))
    typer.echo(f"{spec.name} ({spec.id}): {spec.level}, {spec.kind}, {spec.position}, side {spec.side}")
    typer.echo(f"camera: {spec.camera.view} view; {spec.camera.hint}")
    for line in spec.instructions:
        typer.echo(f"  - {line}")
    typer.echo(spec.doc)
    for rule in spec.rules:
        bounds = " and ".join(f"{word} {v:g}" for word, v in (("at least", rule.min), ("at most", rule.max))
                              if v is not None)
        about = f" - {rule.doc}" if rule.doc else ""
        typer.echo(f"  rule {rule.id} ({rule.severity}, {rule.signal} {bounds}): \"{rule.message}\"{about}")
    t = spec.targets
    hold = f", hold {spec.hold_target_s:g} s" if spec.hold_target_s else ""
    typer.echo(f"targets: reps {t.reps or '-'}, sets {t.sets}{hold}, rest {t.rest_s:g} s")


def _readable(rule_id: str) -> str:
    """A rule id as words ('hips_sagging' -> 'hips sagging')."""
    return rule_id.replace("_", " ")


def _print_summary(d: dict) -> None:
    typer.echo(
        f"{d['source']}: {d['exercise']}, {d['frames']} frame{'' if d['frames'] == 1 else 's'} "
        f"({d['duration_s']:.1f} s), "
        f"person in {d['frames_with_person']} frames, model {d['model']}"
    )
    rec = d.get("recognition")
    if rec and rec["method"] != "given":
        typer.echo(f"recognised: {rec['exercise']} (confidence {rec['confidence']:.2f})"
                   if rec["method"] == "recognised" else "exercise not recognised: counted any repeated movement")
    typer.echo(f"repetitions: {d['rep_count']}")
    for r in d["reps"]:
        faults = ", ".join(_readable(f) for f in r["faults"]) or "good form"
        typer.echo(f"  #{r['index']}: {r['start_s']:.1f}-{r['end_s']:.1f} s  score {r['score']:.0f}  {faults}")
    for h in d["holds"]:
        target = f" (target {h['target_s']:g} s)" if h.get("target_s") else ""
        faults = ", ".join(_readable(f) for f in h.get("faults") or [])
        typer.echo(f"hold {h['start_s']:.1f}-{h['end_s']:.1f} s: {h['duration_s']:.1f} s{target}"
                   + (f"  {faults}" if faults else ""))
    if d["warnings"]:
        typer.echo(f"form warnings: {len(d['warnings'])}")
        for w in d["warnings"][:10]:
            typer.echo(f"  {w['t_s']:6.1f} s  {w['message']}")
        if len(d["warnings"]) > 10:
            typer.echo(f"  ... and {len(d['warnings']) - 10} more (all of them are in the --json report)")
    for n in d["notices"]:
        typer.secho(f"note: {n}", fg=typer.colors.YELLOW)


def main() -> None:  # console script entry point
    app()


if __name__ == "__main__":
    main()
