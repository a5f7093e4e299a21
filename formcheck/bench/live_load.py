"""``formcheck bench-live``: many simulated live patients against one real server process, landmarks mode (the
page runs the pose model) against frames mode (the server does).

Each client replays a recorded stream at the camera's pace: landmark packets made once from a real clip by the
same pose model (landmarks mode), or that clip's JPEG frames, one in flight at a time as the page sends them
(frames mode). Measured from outside: the server process's CPU time over the load window (cores used, per patient,
patients per core), frames answered per second, ``/api/health`` latency during the load, and the server's memory
at idle, at its peak and after the clients left. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from formcheck.bench.server import ServerProcess, _pct, setup_accounts

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime of all its threads


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def record_streams(clip: Path, model: str = "full", fps: float = 15.0, width: int = 360,
                   max_s: float = 30.0) -> tuple[list[bytes], list[bytes], list[float]]:
    """The clip at ``fps``: landmark packets (by the real pose model), JPEG frames, and their times."""
    import cv2

    from formcheck.io.sources import VideoFileSource
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
    from server.services.live_messages import encode_landmarks

    packets, jpegs, times = [], [], []
    source = VideoFileSource(clip)
    next_t = 0.0
    with PoseEstimator.create(PoseEstimatorOptions(model=model)) as estimator:
        for frame in source:
            if frame.timestamp > max_s:
                break
            if frame.timestamp + 1e-6 < next_t:
                continue
            next_t += 1.0 / fps
            h, w = frame.image.shape[:2]
            image = cv2.resize(frame.image, (width, round(h * width / w))) if w > width else frame.image
            jpegs.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes())
            t = round(len(times) / fps, 4)
            pose = estimator.detect_for_video(image, t)
            packets.append(encode_landmarks(pose))
            times.append(t)
    source.close()
    return packets, jpegs, times


async def _client(url: str, stream: list[bytes], times: list[float], mode: str, until: float, stats: dict) -> None:
    """One patient: the stream in a loop at its own pace until ``until`` (monotonic), then stop."""
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None, open_timeout=120) as ws:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "session":
            stats["refused"] += 1
            return
        loop_s = times[-1] + 1.0 / 15
        start, i, lap = time.monotonic(), 0, 0
        pending = asyncio.Event()
        pending.set()

        async def read():
            async for message in ws:
                msg = json.loads(message)
                if msg.get("type") == "frame":
                    stats["answered"] += 1
                    pending.set()
                elif msg.get("type") == "summary":
                    return
                elif msg.get("type") == "error":
                    stats["errors"] += 1
                    pending.set()

        reader = asyncio.create_task(read())
        while time.monotonic() < until:
            t = lap * loop_s + times[i]
            delay = start + t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if mode == "frames":
                try:  # one frame in flight, as the page: a slow server lowers the rate
                    await asyncio.wait_for(pending.wait(), timeout=5)
                except TimeoutError:
                    pass
                pending.clear()
                await ws.send(json.dumps({"type": "frame_time", "t": t}))
            await ws.send(stream[i])
            stats["sent"] += 1
            i += 1
            if i == len(stream):
                i, lap = 0, lap + 1
        await ws.send(json.dumps({"type": "stop"}))
        try:
            await asyncio.wait_for(reader, timeout=60)
        except TimeoutError:
            reader.cancel()


async def _health(base: str, until: float, latencies: list[float]) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                await http.get("/api/health")
            except httpx.TimeoutException:
                pass  # counted as the 30 s it waited
            latencies.append(1000 * (time.perf_counter() - t0))
            await asyncio.sleep(0.1)


async def _round(server: ServerProcess, token: str, mode: str, stream, times, clients: int, seconds: float) -> dict:
    q = "mode=landmarks&model=full" if mode == "landmarks" else "mode=frames"
    url = server.url.replace("http", "ws", 1) + f"/api/live?exercise=squat&{q}&token={token}"
    pid = server.proc.pid
    stats = {"sent": 0, "answered": 0, "errors": 0, "refused": 0}
    idle_latencies: list[float] = []
    await _health(server.url, time.monotonic() + 2, idle_latencies)
    rss_idle = _rss_mb(pid)
    latencies: list[float] = []
    peak = [rss_idle]

    async def watch_memory(until: float):
        while time.monotonic() < until:
            peak[0] = max(peak[0], _rss_mb(pid))
            await asyncio.sleep(0.5)

    until = time.monotonic() + seconds
    cpu0, wall0 = _cpu_s(pid), time.monotonic()
    await asyncio.gather(*(_client(url, stream, times, mode, until, stats) for _ in range(clients)),
                         _health(server.url, until, latencies), watch_memory(until))
    cpu, wall = _cpu_s(pid) - cpu0, time.monotonic() - wall0
    await asyncio.sleep(5)  # the clients left: does memory come back?
    cores = cpu / wall
    return {
        "mode": mode, "clients": clients, "seconds": round(wall, 1), **stats,
        "answered_per_s": round(stats["answered"] / wall, 1),
        "answered_per_client_per_s": round(stats["answered"] / wall / max(clients, 1), 1),
        "server_cores_used": round(cores, 2),
        "cpu_ms_per_answer": round(1000 * cpu / stats["answered"], 1) if stats["answered"] else None,
        "patients_per_core_at_15fps": round(1000 / (15 * 1000 * cpu / stats["answered"]), 1)
        if stats["answered"] and cpu > 0 else None,
        "cores_per_patient": round(cores / max(clients, 1), 4),
        "patients_per_core": round(clients / cores, 1) if cores > 0 else None,
        "health_ms_idle_median": round(statistics.median(idle_latencies), 1) if idle_latencies else None,
        "health_ms": {"median": round(statistics.median(latencies), 1) if latencies else None,
                      "p99": _pct(latencies, 0.99), "max": round(max(latencies), 1) if latencies else None},
        "rss_mb": {"idle": round(rss_idle), "peak": round(peak[0]), "after": round(_rss_mb(pid))},
    }


def measure_live_load(clip: Path, landmark_clients: int = 50, frame_clients: int = 20, seconds: float = 20.0,
                      model: str = "full") -> dict:
    """Both modes against one fresh server (one process), one round each."""
    packets, jpegs, times = record_streams(Path(clip), model)
    env = {"FORMCHECK_LIVE_MAX_CONNECTIONS": "1000", "FORMCHECK_LIVE_MAX_CONNECTIONS_PER_USER": "1000",
           "FORMCHECK_LIVE_MAX_SERVER_POSE_SESSIONS": "1000", "FORMCHECK_MODEL": model}  # limits off: cost measured
    rounds = []
    with tempfile.TemporaryDirectory(prefix="formcheck-live-load-") as tmp, \
            ServerProcess(Path(tmp), workers=1, env=env) as server:
        _, patient, _ = setup_accounts(server)
        for mode, stream, clients in (("landmarks", packets, landmark_clients), ("frames", jpegs, frame_clients)):
            if clients > 0:
                rounds.append(asyncio.run(_round(server, patient.token, mode, stream, times, clients, seconds)))
    return {"clip": Path(clip).name, "fps": 15, "cores": os.cpu_count(), "model": model,
            "packet_bytes": len(packets[0]), "jpeg_bytes_median": int(statistics.median(map(len, jpegs))),
            "rounds": rounds}


def format_live_load(r: dict) -> str:
    head = (f"{r['clip']} replayed at {r['fps']} fps per patient, {r['model']} model, {r['cores']} cores; "
            f"landmark packet {r['packet_bytes']} B, JPEG frame ~{r['jpeg_bytes_median']} B")
    cols = ("mode", "clients", "answered/s per client", "server cores", "cores/patient", "patients/core",
            "CPU ms per answer", "patients/core at 15 fps", "health ms median/p99/max", "RSS MB idle/peak/after")
    lines = [head, " | ".join(cols)]
    for x in r["rounds"]:
        h, m = x["health_ms"], x["rss_mb"]
        lines.append(" | ".join(str(v) for v in (
            x["mode"], x["clients"], x["answered_per_client_per_s"], x["server_cores_used"], x["cores_per_patient"],
            x["patients_per_core"], x["cpu_ms_per_answer"], x["patients_per_core_at_15fps"],
            f"{h['median']}/{h['p99']}/{h['max']}", f"{m['idle']}/{m['peak']}/{m['after']}")))
    return "\n".join(lines)
