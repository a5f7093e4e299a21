"""Helpers for the security tests: a request fed to the app chunk by chunk (counting what it read), the real
``formcheck serve`` on a free loopback port, raw HTTP over a socket, PostgreSQL schemas."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


@dataclass
class Sent:
    status: int
    body: bytes
    headers: dict[str, str]
    chunks_read: int  # how many body chunks the app asked for


def post_chunks(client, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> Sent:
    """POST to the app inside a running ``TestClient`` (its lifespan started), handing it the body one chunk per
    ``receive()`` as a server would (the TestClient itself reads a whole body first)."""
    read, status, body, response_headers = 0, 0, bytearray(), {}

    async def receive():
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.update({k.decode(): v.decode() for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    client.portal.call(client.app, scope, receive, send)
    return Sent(status, bytes(body), response_headers, read)


def multipart_head(boundary: str = "fcboundary", name: str = "file", filename: str = "clip.mp4") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()


def megabytes(count: int, head: bytes = b"") -> Iterator[bytes]:
    """``head``, then ``count`` chunks of 1 MB."""
    if head:
        yield head
    chunk = b"\0" * MB
    for _ in range(count):
        yield chunk


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeCommand:
    """``formcheck serve`` in a subprocess on a free loopback port, with its own data and temp folders."""

    def __init__(self, root: Path, **env: str):
        self.data_dir, self.tmp_dir = root / "data", root / "tmp"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "FORMCHECK_DATA_DIR": str(self.data_dir), "TMPDIR": str(self.tmp_dir),
                    "FORMCHECK_SECRET_KEY": "security-test-secret-" + "x" * 32, "FORMCHECK_JOB_WORKERS": "1", **env}
        self.env.pop("FORMCHECK_DATABASE_URL", None)
        self.log = root / "server.log"
        self.proc: subprocess.Popen | None = None

    def formcheck(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "formcheck", *args], input=stdin, env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=120)

    def start(self) -> ServeCommand:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "formcheck", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
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


@contextmanager
def serve(root: Path, **env: str):
    server = ServeCommand(root, **env).start()
    try:
        yield server
    finally:
        server.stop()


class _Answered(Exception):
    pass


def raw_chunked_post(port: int, path: str, headers: dict[str, str], total_mb: int, first: bytes = b""
                     ) -> tuple[int, int]:
    """POST ``first`` then ``total_mb`` MB with chunked transfer encoding over a plain socket until the server
    answers or closes; (status code or 0, MB the client managed to send)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    if first:
        head += f"{len(first):x}\r\n" + first.decode("latin-1") + "\r\n"
    chunk = f"{MB:x}\r\n".encode() + b"\0" * MB + b"\r\n"
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode("latin-1"))
        s.setblocking(False)
        try:
            for _ in range(total_mb):
                view = memoryview(chunk)
                deadline = time.monotonic() + 30
                while view and time.monotonic() < deadline:
                    try:
                        answer += s.recv(65536)
                    except BlockingIOError:
                        pass
                    if answer:
                        raise _Answered
                    try:
                        view = view[s.send(view):]
                    except BlockingIOError:
                        time.sleep(0.01)
                if view:  # the server stopped reading and never answered
                    break
                sent += 1
            else:
                s.setblocking(True)
                s.sendall(b"0\r\n\r\n")  # the end of the body
        except (_Answered, ConnectionError):
            pass
        s.setblocking(True)
        s.settimeout(60)
        try:
            while b"\r\n" not in answer:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except (OSError, TimeoutError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema at 127.0.0.1:5432 (dropped afterwards); skips when no server answers."""
    from distutil import postgres_schema

    with postgres_schema() as url:
        yield url
