"""``formcheck bench-jobs``: analysis throughput of the embedded default beside the distributed configuration
(Celery workers, Redis broker, PostgreSQL), measured from outside over HTTP on this machine.

For each configuration: N copies of a clip uploaded at once; clips and video-seconds analysed per minute (first
upload to last job done), per worker process; the latency of each job from its upload to its report; and how
latency grows with queue depth. Also the processes the distributed tests start: a private ``redis-server``, API
processes (``formcheck serve --processes N``) and workers (``formcheck worker``), each on free loopback ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from formcheck.bench.server import REPO, ApiClient, ServerProcess, free_port, setup_accounts

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _wait(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start" + (f"; see {log}" if log else ""))
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready within {timeout} s" + (f"; see {log}" if log else ""))


class _Process:
    """A subprocess in its own process group (so kill -9 reaches its children too), logging to a file."""

    def __init__(self, log_path: Path):
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None

    def _spawn(self, cmd: list[str], env: dict | None = None) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                     start_new_session=True)
        log.close()

    def kill(self) -> None:
        """SIGKILL the whole process group (as a crash or an OOM kill of the machine's service would)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def spawn(self):
        raise NotImplementedError

    def wait_ready(self):
        return self

    def start(self):
        """Start and wait until it is ready."""
        return self.spawn().wait_ready()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RedisProcess(_Process):
    """A private ``redis-server`` on a free loopback port, append-only file fsynced on every write (so a broker
    killed and restarted keeps its queues)."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()
        super().__init__(self.folder / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def spawn(self) -> RedisProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._spawn([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                     "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"])
        return self

    def wait_ready(self) -> RedisProcess:
        _wait(self.ping, 20, "redis-server", self.proc, self.log_path)
        return self


class ApiProcesses(_Process):
    """``formcheck serve --processes N`` on a free port (one uvicorn supervisor, N API processes)."""

    def __init__(self, data_dir: Path, env: dict, processes: int = 2):
        self.data_dir, self.env, self.processes = Path(data_dir), env, processes
        self.port = free_port()
        super().__init__(self.data_dir / "api.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "formcheck", *args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env, cwd=REPO, timeout=120)

    def _healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(self.url + "/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def spawn(self) -> ApiProcesses:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn([sys.executable, "-m", "formcheck", "serve", "--port", str(self.port),
                     "--processes", str(self.processes)], self.env)
        return self

    def wait_ready(self) -> ApiProcesses:
        _wait(self._healthy, 120, "formcheck serve", self.proc, self.log_path)
        return self

    def pids(self) -> set[int]:
        """The API processes' ids (children of the supervisor)."""
        out = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    out.add(int(stat.parent.name))
            except (OSError, ValueError):
                continue
        return out


class WorkerProcess(_Process):
    """``formcheck worker --concurrency N`` (a Celery worker), ready once it says so in its log."""

    def __init__(self, data_dir: Path, env: dict, concurrency: int = 1, name: str = "worker"):
        self.data_dir, self.env, self.concurrency = Path(data_dir), env, concurrency
        super().__init__(self.data_dir / f"{name}.log")

    def spawn(self) -> WorkerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._spawn([sys.executable, "-m", "formcheck", "worker", "--concurrency", str(self.concurrency)], self.env)
        return self

    def wait_ready(self) -> WorkerProcess:
        def ready() -> bool:
            with self.log_path.open("rb") as f:
                f.seek(self._log_start)
                return b" ready." in f.read()

        _wait(ready, 120, "formcheck worker", self.proc, self.log_path)
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_together(*processes: _Process) -> None:
    """Start several processes at once and wait until every one is ready (start-up costs overlap)."""
    for process in processes:
        process.spawn()
    for process in processes:
        process.wait_ready()


def stop_together(*processes: _Process) -> None:
    """Ask several processes to stop at once (SIGTERM), then wait for each (SIGKILL to what is left)."""
    for process in processes:
        if process.proc is not None and process.proc.poll() is None:
            process.proc.terminate()
    for process in processes:
        process.stop()


def distributed_env(data_dir: Path, database_url: str, broker_url: str, redis_url: str, **extra: str) -> dict:
    """The environment of every process of one distributed deployment (its own queue name and key prefix)."""
    return {
        **os.environ,
        "FORMCHECK_DATA_DIR": str(data_dir),
        "FORMCHECK_DATABASE_URL": database_url,
        "FORMCHECK_BROKER_URL": broker_url,
        "FORMCHECK_REDIS_URL": redis_url,
        "FORMCHECK_JOB_QUEUE": extra.pop("FORMCHECK_JOB_QUEUE", f"fc-{uuid.uuid4().hex[:10]}"),
        **extra,
    }


def _run_uploads(client: ApiClient, clip: Path, exercise: str, n: int) -> dict:
    """Upload ``n`` copies at once; per-job latency (upload accepted to done) and the wall time."""
    t0 = time.monotonic()
    accepted = []
    for _ in range(n):
        accepted.append((client.upload(clip, exercise)["job_id"], time.monotonic()))
    done_at, statuses = {}, {}
    pending = {job_id for job_id, _ in accepted}
    deadline = time.monotonic() + 1800
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = client.get(f"/api/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                done_at[job_id], statuses[job_id] = time.monotonic(), job["status"]
                pending.discard(job_id)
        time.sleep(0.2)
    wall = time.monotonic() - t0
    latencies = [done_at[j] - t for j, t in accepted if j in done_at]
    return {"wall_s": wall, "latencies_s": latencies, "statuses": sorted(statuses.values())}


def _row(name: str, processes: int, clip_s: float, n: int, run: dict) -> dict:
    lat = run["latencies_s"]
    per_min = 60 * n / run["wall_s"]
    return {
        "configuration": name,
        "worker_processes": processes,
        "clips": n,
        "wall_s": round(run["wall_s"], 1),
        "clips_per_min": round(per_min, 2),
        "clips_per_min_per_worker": round(per_min / processes, 2),
        "video_s_per_min": round(per_min * clip_s, 1),
        "video_s_per_min_per_worker": round(per_min * clip_s / processes, 1),
        "latency_s": {"first": round(min(lat), 1) if lat else None, "median": round(statistics.median(lat), 1)
                      if lat else None, "last": round(max(lat), 1) if lat else None},
        "statuses": run["statuses"],
    }


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def measure_jobs(clip: Path, exercise: str, database_url: str, uploads: int = 4, depths: tuple[int, ...] = (1, 2, 4),
                 workers: tuple[int, ...] = (1, 2)) -> dict:
    """In-process default (``serve --workers W``, SQLite) and Celery (W ``formcheck worker`` processes, a private
    redis-server, ``database_url``) for each W in ``workers``, ``uploads`` clips each; then latency against
    queue depth on the distributed configuration with one worker."""
    from formcheck.io.sources import VideoFileSource

    source = VideoFileSource(clip)
    clip_s, frames = source.frame_count / source.fps, source.frame_count
    source.close()
    rows, depth_rows = [], []
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="formcheck-bench-jobs-") as tmp:
        tmp = Path(tmp)
        for w in workers:
            with ServerProcess(tmp / f"local{w}", workers=w) as server:
                _, patient, _ = setup_accounts(server)
                _run_uploads(patient, clip, exercise, w)  # warm-up: the model loaded in each process
                rows.append(_row("in-process (default)", w, clip_s, uploads,
                                 _run_uploads(patient, clip, exercise, uploads)))
        with RedisProcess(tmp / "redis") as redis:
            env = distributed_env(tmp / "dist", database_url, redis.url, redis.url)
            with ApiProcesses(tmp / "dist", env, processes=2) as api:
                _, patient, _ = setup_accounts(api)
                for w in workers:
                    pool = [WorkerProcess(tmp / "dist", env, 1, name=f"w{w}-{i}").start() for i in range(w)]
                    try:
                        _run_uploads(patient, clip, exercise, w)  # warm-up
                        rows.append(_row("celery + redis + postgresql", w, clip_s, uploads,
                                         _run_uploads(patient, clip, exercise, uploads)))
                        if w == min(workers):
                            for depth in depths:
                                run = _run_uploads(patient, clip, exercise, depth)
                                depth_rows.append({"queue_depth": depth, **_row("celery", w, clip_s, depth, run)})
                    finally:
                        for worker in pool:
                            worker.stop()
    return {"clip": clip.name, "clip_seconds": round(clip_s, 2), "clip_frames": frames, "uploads": uploads,
            "load_before": load_before, "load_after": _load(), "throughput": rows, "queue_depth": depth_rows}


def format_result(r: dict) -> str:
    lines = [f"clip {r['clip']} ({r['clip_seconds']} s, {r['clip_frames']} frames), {r['uploads']} uploads per run; "
             f"{r['load_before']} before, {r['load_after']} after", "",
             "| configuration | worker processes | clips/min | clips/min per worker | video-s/min per worker | "
             "latency first / median / last (s) | statuses |", "|---|---|---|---|---|---|---|"]
    for row in r["throughput"]:
        lat = row["latency_s"]
        lines.append(f"| {row['configuration']} | {row['worker_processes']} | {row['clips_per_min']} | "
                     f"{row['clips_per_min_per_worker']} | {row['video_s_per_min_per_worker']} | "
                     f"{lat['first']} / {lat['median']} / {lat['last']} | {','.join(row['statuses'])} |")
    if r["queue_depth"]:
        lines += ["", "| queue depth (1 worker) | latency first / median / last (s) | clips/min |", "|---|---|---|"]
        for row in r["queue_depth"]:
            lat = row["latency_s"]
            lines.append(f"| {row['queue_depth']} | {lat['first']} / {lat['median']} / {lat['last']} | "
                         f"{row['clips_per_min']} |")
    return "\n".join(lines)
