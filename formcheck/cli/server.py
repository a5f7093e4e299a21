"""``formcheck serve``, ``formcheck users add|passwd|list`` and ``formcheck bench-server``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import DbOpt, app, check_output, fail, settings, write_json

users_app = typer.Typer(help="Accounts for the server (e.g. the first therapist).", no_args_is_help=True)
app.add_typer(users_app, name="users")


def server_db_url(db: str | None) -> str:
    """The database URL: --db, else the settings (FORMCHECK_DATABASE_URL or SQLite in the data folder)."""
    if db:
        return db
    current = settings()
    try:
        return current.db_url
    except OSError as exc:
        fail(f"cannot create the data folder {current.data_dir} ({exc.strerror or exc}); "
             "set FORMCHECK_DATA_DIR to a folder you can write to")


def open_store_or_fail(url: str):
    """Open the database, or fail with a message naming the URL (password hidden) and the reason."""
    from formcheck.live.app import LiveError, open_store

    try:
        return open_store(url)
    except LiveError as exc:
        fail(str(exc))


def read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)", min=1, max=65535)] = None,
    workers: Annotated[int | None, typer.Option(help="analysis worker processes (default: one per core)")] = None,
    db: DbOpt = None,
) -> None:
    """Run the HTTP API and web pages (FastAPI + uvicorn); settings from FORMCHECK_* variables."""
    import uvicorn

    open_store_or_fail(server_db_url(db)).close()  # a wrong database URL: a message, not a startup traceback
    current = settings(host=host, port=port, job_workers=workers, database_url=db)
    from server.app import create_app

    typer.echo(f"formcheck server on http://{current.host}:{current.port}  "
               f"(API docs: http://{current.host}:{current.port}/docs)")
    uvicorn.run(create_app(current), host=current.host, port=current.port, log_level="info")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="therapist or patient")] = "therapist",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    display_name: Annotated[str, typer.Option(help="name shown in the pages")] = "",
    therapist: Annotated[str | None, typer.Option(help="for a patient: the therapist's username")] = None,
    db: DbOpt = None,
) -> None:
    """Create an account (start here: the first therapist), in the server's database."""
    from server.services.accounts import create_user

    password = read_password(password_stdin, "password")
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
    db: DbOpt = None,
) -> None:
    """Set a new password for an account (someone who forgot theirs)."""
    from server.services.accounts import set_password

    password = read_password(password_stdin, "new password")
    store = open_store_or_fail(server_db_url(db))
    try:
        set_password(store, username, password)
    except ValueError as exc:
        fail(str(exc))
    finally:
        store.close()
    typer.echo(f"new password set for {username!r}")


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
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
    write_json(json_out, result)
