"""Helpers for the browser tests: the real server (uvicorn, temporary SQLite file) in a subprocess, accounts,
and Debian's Chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("FORMCHECK_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "out" / "screenshots"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (run scripts/system-deps.sh, or set FORMCHECK_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``formcheck``'s FastAPI app under uvicorn in a subprocess, on a free port, with its own data folder."""

    def __init__(self, data_dir: Path, job_workers: int = 1):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FORMCHECK_DATA_DIR": str(data_dir),
            "FORMCHECK_SECRET_KEY": "browser-test-secret-" + "x" * 32,
            "FORMCHECK_JOB_WORKERS": str(job_workers),
        }
        self.env.pop("FORMCHECK_DATABASE_URL", None)
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "server.log"

    def add_user(self, username: str, role: str = "therapist", therapist: str | None = None) -> None:
        """Create an account with the ``formcheck users add`` command (as a clinic would)."""
        cmd = [sys.executable, "-m", "formcheck", "users", "add", username, "--role", role, "--password-stdin"]
        if therapist:
            cmd += ["--therapist", therapist]
        done = subprocess.run(cmd, input=PASSWORD + "\n", env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def token(self, username: str) -> str:
        r = httpx.post(f"{self.url}/api/auth/token", data={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return r.json()["access_token"]

    def api(self, method: str, path: str, username: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def create_patient(self, therapist: str, username: str, display_name: str, level: str = "initial") -> int:
        body = {"username": username, "password": PASSWORD, "display_name": display_name, "level": level}
        r = self.api("POST", "/api/patients", therapist, json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]


@contextmanager
def running_server(data_dir: Path, job_workers: int = 1):
    server = Server(data_dir, job_workers)
    server.add_user("therapist", "therapist")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def browser(extra_args: list[str] = (), browser_type=None):
    """Headless Debian Chromium under Playwright (``browser_type``: reuse a running Playwright's chromium)."""
    require_chromium()
    if browser_type is not None:
        b = browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield b
        finally:
            b.close()
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, browser(extra_args, p.chromium) as b:
        yield b


def log_in(page, server: Server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def page_errors(page) -> list[str]:
    """Collect uncaught JavaScript errors of a page (attach before navigating)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def wait_until(probe, timeout_s: float = 30.0, interval_s: float = 0.2, message: str = "condition"):
    """Poll ``probe()`` until it returns a truthy value (pages forbid eval, so no ``wait_for_function``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {message}")
        time.sleep(interval_s)
