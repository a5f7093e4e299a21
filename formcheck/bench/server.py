"""``formcheck bench-server``: a real server process, measured from outside over HTTP and WebSocket.

Upload throughput: N copies of a clip uploaded at once, clips analysed per minute (wall clock, first upload to
last job done). Live latency: JPEG frames streamed over ``/api/live`` one at a time, milliseconds from sending a
frame to receiving its reply. Also used by the end-to-end tests to start and kill servers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``formcheck serve`` in a subprocess on a free port with its own data folder (SQLite file)."""

    def __init__(self, data_dir: Path, workers: int = 2, env: dict | None = None):
        self.data_dir, self.workers = Path(data_dir), workers
        self.extra_env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        return {**os.environ, "FORMCHECK_DATA_DIR": str(self.data_dir), **self.extra_env}

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a ``formcheck`` command against this server's database."""
        cmd = [sys.executable, "-m", "formcheck", *args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env, cwd=REPO, timeout=120)

    def start(self, timeout: float = 60.0) -> ServerProcess:
        import httpx

        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        cmd = [sys.executable, "-m", "formcheck", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited at start; see {self.log_path}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the server did not answer within {timeout} s; see {self.log_path}")

    def children(self) -> list[int]:
        """Process ids whose parent is the server process."""
        if self.proc is None:
            return []
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                out.append(int(stat.parent.name))
        return out

    def kill(self) -> None:
        """SIGKILL the server process only (as a crash would)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop the server and anything left in its process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ApiClient:
    """A small HTTP client with bearer login."""

    def __init__(self, base_url: str):
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.headers: dict = {}
        self.token = ""

    def login(self, username: str, password: str) -> ApiClient:
        r = self.http.post("/api/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        self.http.cookies.clear()
        self.token = r.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        return self

    def get(self, path: str, **kw):
        return self.http.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw):
        return self.http.post(path, headers=self.headers, **kw)

    def patch(self, path: str, **kw):
        return self.http.patch(path, headers=self.headers, **kw)

    def upload(self, clip: Path, exercise: str, **data) -> dict:
        with open(clip, "rb") as f:
            r = self.post("/api/uploads", data={"exercise": exercise, **data}, files={"file": (clip.name, f)})
        r.raise_for_status()
        return r.json()

    def wait_job(self, job_id: int, timeout: float = 600, until=lambda j: j["status"] not in ("queued", "running")):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"/api/jobs/{job_id}").json()
            if until(job):
                return job
            time.sleep(0.25)
        raise TimeoutError(f"job {job_id} did not finish in {timeout} s")


def setup_accounts(server: ServerProcess, patient: str = "patient1") -> tuple[ApiClient, ApiClient, int]:
    """The first therapist (CLI), a patient made by the therapist over HTTP; both logged in."""
    done = server.cli(
        "users", "add", "therapist1", "--role", "therapist", "--password-stdin", input=TEST_PASSWORD + "\n"
    )
    if done.returncode != 0 and "taken" not in done.stderr + done.stdout:
        raise RuntimeError(done.stderr or done.stdout)
    therapist = ApiClient(server.url).login("therapist1", TEST_PASSWORD)
    r = therapist.post("/api/patients", json={"username": patient, "password": TEST_PASSWORD, "level": "initial"})
    if r.status_code == 409:
        pid = next(p["id"] for p in therapist.get("/api/patients").json() if p["username"] == patient)
    else:
        r.raise_for_status()
        pid = r.json()["id"]
    return therapist, ApiClient(server.url).login(patient, TEST_PASSWORD), pid


def stream_live(
    base_url: str, token: str, clip: Path, exercise: str, max_frames: int | None = None, width: int = 360,
    realtime: bool = True,
) -> dict:
    """Stream a clip's frames as JPEG over ``/api/live`` (with the clip's timestamps); replies and latencies.
    ``realtime`` sends no faster than the clip plays, as a camera would (the server rate-limits frames)."""
    import cv2
    from websockets.sync.client import connect

    from formcheck.io.sources import VideoFileSource

    source = VideoFileSource(clip)
    replies, latencies, first = [], [], None
    ws_url = base_url.replace("http", "ws", 1) + f"/api/live?exercise={exercise}&token={token}"
    with connect(ws_url, max_size=None, open_timeout=60) as ws:
        first = json.loads(ws.recv(timeout=60))
        if first.get("type") != "session":
            return {"first": first, "replies": [], "latencies_ms": [], "summary": None}
        start = time.monotonic()
        for frame in source:
            if max_frames is not None and frame.index >= max_frames:
                break
            if realtime:
                time.sleep(max(0.0, start + frame.timestamp - time.monotonic()))
            h, w = frame.image.shape[:2]
            image = cv2.resize(frame.image, (width, round(h * width / w))) if w > width else frame.image
            jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            ws.send(json.dumps({"type": "frame_time", "t": frame.timestamp}))
            t0 = time.perf_counter()
            ws.send(jpeg)
            reply = json.loads(ws.recv(timeout=60))
            latencies.append(1000 * (time.perf_counter() - t0))
            replies.append(reply)
        source.close()
        ws.send(json.dumps({"type": "stop"}))
        summary = json.loads(ws.recv(timeout=60))
    return {"first": first, "replies": replies, "latencies_ms": latencies, "summary": summary}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def measure_server(clip: Path, exercise: str, uploads: int = 4, workers: int = 2, live_frames: int = 150) -> dict:
    """Start a server, upload ``uploads`` copies of ``clip`` at once, then stream ``live_frames`` frames live."""
    from formcheck.io.sources import VideoFileSource

    clip = Path(clip)
    source = VideoFileSource(clip)
    clip_s, clip_frames = source.frame_count / source.fps, source.frame_count
    source.close()
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-") as tmp, ServerProcess(Path(tmp), workers) as server:
        _, patient, _ = setup_accounts(server)
        t0 = time.monotonic()
        jobs = [patient.upload(clip, exercise)["job_id"] for _ in range(uploads)]
        results = [patient.wait_job(j) for j in jobs]
        wall = time.monotonic() - t0
        statuses = [r["status"] for r in results]
        live = stream_live(server.url, patient.token, clip, exercise, max_frames=live_frames)
        lat = live["latencies_ms"]
    return {
        "clip": clip.name,
        "clip_seconds": round(clip_s, 2),
        "clip_frames": clip_frames,
        "workers": workers,
        "cores": os.cpu_count(),
        "uploads": uploads,
        "upload_statuses": statuses,
        "uploads_wall_s": round(wall, 1),
        "clips_per_minute": round(60 * uploads / wall, 2),
        "video_seconds_per_wall_second": round(uploads * clip_s / wall, 2),
        "analysed_fps": round(uploads * clip_frames / wall, 1),
        "live_frames": len(lat),
        "live_latency_ms": {
            "median": round(statistics.median(lat), 1) if lat else None,
            "p90": _pct(lat, 0.9),
            "p99": _pct(lat, 0.99),
            "mean": round(statistics.fmean(lat), 1) if lat else None,
        },
        "live_fps_sequential": round(1000 * len(lat) / sum(lat), 1) if lat else None,
    }


def format_result(r: dict) -> str:
    lat = r["live_latency_ms"]
    return "\n".join(
        [
            f"clip {r['clip']} ({r['clip_seconds']} s, {r['clip_frames']} frames), {r['workers']} workers on "
            f"{r['cores']} cores",
            f"uploads: {r['uploads']} clips in {r['uploads_wall_s']} s -> {r['clips_per_minute']} clips/min "
            f"({r['video_seconds_per_wall_second']} s of video per s, {r['analysed_fps']} frames/s); "
            f"{r['upload_statuses']}",
            f"live: {r['live_frames']} frames, latency median {lat['median']} ms, p90 {lat['p90']} ms, "
            f"p99 {lat['p99']} ms "
            f"(sequential {r['live_fps_sequential']} fps)",
        ]
    )
