"""``formcheck serve``, ``formcheck worker``, ``formcheck users add|passwd|list`` and ``formcheck bench-server``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from formcheck.cli.app import DbOpt, app, check_output, fail, settings, write_json
from formcheck.pose.estimator import filter_native_logs

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
    processes: Annotated[int, typer.Option(help="API processes (more than 1 needs FORMCHECK_BROKER_URL and "
                                           "FORMCHECK_REDIS_URL: jobs and shared state outside the process)",
                                           min=1)] = 1,
    db: DbOpt = None,
) -> None:
    """Run the HTTP API and web pages (FastAPI + uvicorn); settings from FORMCHECK_* variables."""
    import os

    import uvicorn

    os.umask(0o077)  # what the server and its workers write (database, uploads, videos, landmarks) is private
    filter_native_logs()  # MediaPipe's native info/warning lines stay out of the server log (and its workers')
    open_store_or_fail(server_db_url(db)).close()  # a wrong database URL: a message, not a startup traceback
    current = settings(host=host, port=port, job_workers=workers, database_url=db)
    typer.echo(f"formcheck server on http://{current.host}:{current.port}  "
               f"(API docs: http://{current.host}:{current.port}/docs)")
    if processes > 1:
        if not (current.broker_url and current.redis_url):
            fail("--processes above 1 needs FORMCHECK_BROKER_URL (jobs on Celery workers) and FORMCHECK_REDIS_URL "
                 "(login throttle and live limits shared); see docs/deploy.md")
        for name, value in (("DATABASE_URL", db), ("JOB_WORKERS", workers)):
            if value is not None:  # the processes read their settings from the environment
                os.environ[f"FORMCHECK_{name}"] = str(value)
        from server.services.programmes import seed_builtin

        store = open_store_or_fail(current.db_url)
        with store.session() as session:  # once here, so the processes starting together find them made
            seed_builtin(session)
        store.close()
        uvicorn.run("server.app:create_app", factory=True, host=current.host, port=current.port,
                    workers=processes, log_level="info")
        return
    from server.app import create_app

    uvicorn.run(create_app(current), host=current.host, port=current.port, log_level="info")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="analysis processes in this worker", min=1)] = 1,
    db: DbOpt = None,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO",
) -> None:
    """Run a Celery worker that analyses uploads (FORMCHECK_BROKER_URL, the database and the video storage must be
    reachable from this machine; see docs/deploy.md)."""
    filter_native_logs()
    current = settings(database_url=db)
    if not current.broker_url:
        fail("set FORMCHECK_BROKER_URL (e.g. redis://host:6379/0 or amqp://user:pass@host//) to run a worker")
    open_store_or_fail(server_db_url(db)).close()  # migrated, reachable: a message instead of a traceback
    try:
        from server.jobs.celery_app import run_worker
    except ImportError as exc:
        fail(f"the distributed configuration needs its packages ({exc.name}): pip install 'formcheck[distributed]'")

    typer.echo(f"formcheck worker: {concurrency} analysis process(es), queue {current.job_queue!r}")
    run_worker(current, concurrency, loglevel.upper())


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="therapist, patient or admin (reads the audit log only)")] = "therapist",
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
    typer.echo(f"new password set for {username!r} (the account's earlier logins are ended)")


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
    if users:
        typer.echo(f"{'USERNAME':24s} {'ROLE':10s} {'LEVEL':12s} {'THERAPIST':16s} NAME")
    for u in users:
        patient = u.role == "patient"
        level, therapist = (u.level, names.get(u.therapist_id, "-")) if patient else ("-", "-")
        typer.echo(f"{u.username:24s} {u.role:10s} {level:12s} {therapist:16s} {u.display_name}"
                   + ("" if u.active else "  (inactive)"))
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
