"""``formcheck live``: a coached session in front of a camera (or a video standing in for one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import DbOpt, ModelOpt, app, fail, settings
from formcheck.pose.estimator import silence_native_logs


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if not (320 <= width <= 3840 and 240 <= height <= 2160):
            raise ValueError
    except ValueError:
        fail(f"--window-size {text!r}: use WIDTHxHEIGHT, e.g. 1280x720 or 640x480")
    return width, height


def _check_choices(camera: int | None, source: str | None, exercise: str | None, program: str | None) -> None:
    if camera is not None and source is not None:
        fail("give either --camera or --source, not both")
    if bool(exercise) == bool(program):
        fail("choose one: --exercise ID or --program NAME (initial, intermediate, advanced)")


def _screenshot_folder(folder: Path | None) -> None:
    if folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--screenshot-dir: cannot create {folder} ({exc.strerror or exc})")


@app.command()
def live(
    camera: Annotated[int | None, typer.Option("--camera", help="camera index (default 0)")] = None,
    source: Annotated[str | None, typer.Option("--source", help="a video file instead of a camera")] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="play --source at its own speed, like a camera")] = False,
    exercise: Annotated[str | None, typer.Option("--exercise", "-e", help="catalog exercise id")] = None,
    program: Annotated[str | None, typer.Option("--program", "--programme", "-p",
                                                help="initial, intermediate, advanced or a YAML file")] = None,
    model: ModelOpt = None,
    save_landmarks: Annotated[bool, typer.Option("--save-landmarks", help="also keep the landmark stream")] = False,
    mute: Annotated[bool, typer.Option("--mute", help="no spoken cues or beeps (key m toggles)")] = False,
    beeps: Annotated[bool, typer.Option("--beeps/--no-beeps", help="countdown beeps before sets")] = True,
    db: DbOpt = None,
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

    _check_choices(camera, source, exercise, program)
    size = _window_size(window_size)
    _screenshot_folder(screenshot_dir)
    try:
        options = LiveOptions(
            source=source if source is not None else (camera or 0), realtime=realtime, exercise=exercise,
            programme=program, model=model or settings().model, save_landmarks=save_landmarks, mute=mute,
            beeps=beeps, db_url=db, screenshot_dir=screenshot_dir, auto_keys=parse_auto_keys(auto_keys or ""),
            intro_s=intro, summary_s=summary_seconds, window_size=size, mirror=mirror, show_window=window,
        )
        result = run_live(options, log=typer.echo)
    except LiveError as exc:
        fail(str(exc))
    if result.status == "interrupted":
        typer.secho("the session was interrupted; what was done is saved", fg=typer.colors.YELLOW)
