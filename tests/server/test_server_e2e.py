"""End to end over HTTP against the real server (uvicorn subprocess, real SQLite file, real pose model):
a therapist creates a patient on the initial programme; the patient uploads real clips and gets scored
sessions with the right rep counts; the therapist reads and exports them; the live WebSocket answers a
stream of JPEG frames from a real clip with the right events; a server killed mid-analysis loses nothing."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from apiutil import SHARED_DATA
from distutil import cut_clip

from formcheck.bench.server import ApiClient, ServerProcess, setup_accounts, stream_live

pytestmark = pytest.mark.slow


def _engine_ready() -> None:
    try:
        from formcheck.engine import create_analyzer, list_exercises
    except ImportError:
        pytest.skip("the exercise engine (formcheck.engine.create_analyzer) is not installed yet")
    if "squat" not in list_exercises():
        pytest.skip("the exercise catalog has no squat yet")
    assert create_analyzer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _engine_ready()
    with ServerProcess(tmp_path_factory.mktemp("e2e"), workers=2) as srv:
        yield srv


@pytest.fixture(scope="module")
def accounts(server):
    return setup_accounts(server)


def test_health_and_docs(server):
    client = ApiClient(server.url)
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/uploads" in paths and "/api/sessions/{session_id}/export.csv" in paths


def test_therapist_assigns_initial_programme(accounts):
    therapist, patient, pid = accounts
    record = therapist.get(f"/api/patients/{pid}").json()
    assert record["level"] == "initial" and record["programme"] == "initial"
    r = therapist.post(f"/api/patients/{pid}/level", json={"level": "initial", "accept": True})
    assert r.status_code == 200 and r.json()["programme"] == "initial"
    today = patient.get("/api/me/programme").json()
    assert today["programme"]["name"] == "initial" and today["items"][0]["instructions"]
    assert therapist.patch(f"/api/patients/{pid}", json={"keep_videos": True}).json()["keep_videos"] is True


def test_patient_upload_scored_then_therapist_reads_and_exports(server, accounts, two_squats):
    therapist, patient, pid = accounts
    accepted = patient.upload(two_squats, "squat")
    job = patient.wait_job(accepted["job_id"])
    assert job["status"] == "done", job
    assert job["progress"] == 100
    session = therapist.get(f"/api/sessions/{accepted['session_id']}").json()
    assert session["status"] == "completed" and session["patient_id"] == pid
    assert session["rep_count"] == 2  # the sample's 2 squats
    assert session["model"] == "full" and session["frames_with_person"] > 0.9 * session["frames"]
    for rep in session["reps"]:
        assert rep["start_s"] < rep["end_s"] and 0 <= rep["score"] <= 100 and isinstance(rep["faults"], list)
    assert session["sets"][0]["exercise"] == "squat" and session["sets"][0]["reps_done"] == 2
    series = session["series"]["squat"]
    assert len(series["t"]) > 20 and any(k not in ("t", "target_band") for k in series)
    # exports
    exported = therapist.get(f"/api/sessions/{accepted['session_id']}/export.json").json()
    assert exported["rep_count"] == 2 and exported["reps"] == session["reps"]
    rows = list(csv.DictReader(io.StringIO(therapist.get(f"/api/sessions/{accepted['session_id']}/export.csv").text)))
    assert [r["type"] for r in rows].count("rep") == 2
    # kept video (the patient's setting): annotated, playable by browsers, served to the therapist
    assert session["video_url"]
    video = therapist.get(session["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and len(video.content) > 10000
    assert "inference_runner_litert" not in server.log_path.read_text()  # MediaPipe's native warnings filtered out
    # notes; and the patient sees the session in their history
    assert therapist.post(f"/api/sessions/{accepted['session_id']}/notes", json={"text": "good"}).status_code == 201
    assert accepted["session_id"] in {s["id"] for s in patient.get("/api/sessions").json()}


def test_upload_for_a_programme_recognises_the_exercise(accounts, two_squats):
    from server.services.catalog import recognition_available

    if not recognition_available():
        pytest.skip("exercise recognition (formcheck.engine.recognition) is not installed yet")
    therapist, patient, _ = accounts
    advanced = next(p for p in patient.get("/api/programmes").json() if p["name"] == "advanced")
    with open(two_squats, "rb") as f:
        r = patient.post("/api/uploads", data={"programme_id": advanced["id"]}, files={"file": (two_squats.name, f)})
    assert r.status_code == 202, r.text
    assert patient.wait_job(r.json()["job_id"])["status"] == "done"
    session = therapist.get(f"/api/sessions/{r.json()['session_id']}").json()
    assert session["programme"] == "advanced" and session["sets"][0]["exercise"] == "squat"
    assert session["rep_count"] == 2 and session["series"]["squat"]["t"]
    job = patient.get(f"/api/jobs/{r.json()['job_id']}").json()  # the job says what was recognised, how sure
    assert job["recognition"]["exercise"] == "squat" and job["recognition"]["method"] == "recognised"
    assert 0 < job["recognition"]["confidence"] <= 1 and session["recognition"] == job["recognition"]


def test_api_session_detail_has_the_keys_of_analyze_json(server, accounts, tmp_path, two_squats):
    """The README's promise: the API's session detail carries what ``formcheck analyze --json`` writes, for
    the same clip (same model), down to the keys of each repetition and of the summary."""
    therapist, patient, _ = accounts
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "formcheck", "analyze", str(two_squats), "--exercise", "squat",
                           "--model", "full", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(out.read_text())
    accepted = patient.upload(two_squats, "squat")
    assert patient.wait_job(accepted["job_id"])["status"] == "done"
    api = therapist.get(f"/api/sessions/{accepted['session_id']}").json()
    assert set(cli) <= set(api), set(cli) - set(api)
    assert api["rep_count"] == cli["rep_count"] == 2 and api["frames"] == cli["frames"]
    assert {k for r in api["reps"] for k in r} == {k for r in cli["reps"] for k in r}
    assert set(api["summary"]) == set(cli["summary"]) and set(api["series"]) == set(cli["series"]) == {"squat"}
    assert set(api["series"]["squat"]) == set(cli["series"]["squat"])
    assert api["recognition"] == cli["recognition"]
    assert all(r["start_s"] == round(r["start_s"], 3) for r in api["reps"])


def test_lying_down_clip_from_shared_data(accounts):
    clip = SHARED_DATA / "videos" / "physiobody" / "legraise.mp4"
    if not clip.exists():
        pytest.skip(f"{clip} is not here (../shared/data is only on the project's machines)")
    _, patient, _ = accounts
    accepted = patient.upload(clip, "straight_leg_raise")
    job = patient.wait_job(accepted["job_id"])
    assert job["status"] == "done", job
    assert patient.get(f"/api/sessions/{accepted['session_id']}").json()["rep_count"] == 1


def test_nobody_in_the_video_fails_the_job_with_a_message(accounts, tmp_path):
    _, patient, _ = accounts
    path = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(45):
        writer.write(rng.integers(90, 110, (240, 320, 3), dtype=np.uint8))
    writer.release()
    job = patient.wait_job(patient.upload(path, "squat")["job_id"])
    assert job["status"] == "failed" and "Nobody was seen" in job["error"]


def test_live_websocket_answers_frames_with_the_right_events(server, accounts, two_squats):
    _, patient, _ = accounts
    live = stream_live(server.url, patient.token, two_squats, "squat")
    assert live["first"]["type"] == "session"
    replies = live["replies"]
    assert len(replies) > 300 and all(r["type"] == "frame" for r in replies)
    assert sum(r["landmarks"] is not None for r in replies) > 0.9 * len(replies)
    assert all(len(r["landmarks"][0]) == 3 for r in replies if r["landmarks"])
    events = [e for r in replies for e in r["events"]]
    assert [e["index"] for e in events if e["type"] == "rep"] == [1, 2]
    assert "active" in [e["state"] for e in events if e["type"] == "state"]
    assert replies[-1]["snapshot"]["reps"] == 2
    summary = live["summary"]
    assert summary["type"] == "summary" and summary["report"]["rep_count"] == 2
    stored = patient.get(f"/api/sessions/{live['first']['session_id']}").json()
    assert stored["kind"] == "live" and stored["status"] == "completed" and stored["rep_count"] == 2
    assert "token=" not in (server.log_path.read_text().replace("token=[redacted]", ""))


def test_live_websocket_refuses_a_bad_token(server):
    import json

    from websockets.sync.client import connect

    ws_url = server.url.replace("http", "ws", 1) + "/api/live?exercise=squat&token=not-a-token"
    with connect(ws_url, open_timeout=30) as ws:
        message = json.loads(ws.recv(timeout=30))
    assert message["type"] == "error" and message["status"] == 401


def test_cancel_a_running_analysis_then_retry_it(accounts, two_squats):
    _, patient, _ = accounts
    accepted = patient.upload(two_squats, "squat")
    patient.wait_job(accepted["job_id"], timeout=300, until=lambda j: j["progress"] >= 10 or j["status"] == "done")
    assert patient.post(f"/api/jobs/{accepted['job_id']}/cancel").status_code == 200
    job = patient.wait_job(accepted["job_id"])
    assert job["status"] == "cancelled" and job["progress"] < 100
    assert patient.get(f"/api/sessions/{accepted['session_id']}").json()["status"] == "cancelled"
    assert patient.post(f"/api/jobs/{accepted['job_id']}/retry").status_code == 202
    assert patient.wait_job(accepted["job_id"])["status"] == "done"
    assert patient.get(f"/api/sessions/{accepted['session_id']}").json()["rep_count"] == 2


def test_a_crashed_worker_process_is_replaced_and_the_job_requeued(server, accounts, two_squats):
    import os
    import signal

    _, patient, _ = accounts
    accepted = patient.upload(two_squats, "squat")
    patient.wait_job(accepted["job_id"], timeout=300, until=lambda j: j["progress"] >= 20 or j["status"] == "done")
    workers = [p for p in server.children() if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)  # as a crash in native code would
    job = patient.wait_job(accepted["job_id"])
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert patient.get(f"/api/sessions/{accepted['session_id']}").json()["rep_count"] == 2
    assert ApiClient(server.url).get("/api/health").status_code == 200


def _kill_mid_job(server: ServerProcess, patient: ApiClient, clip: Path) -> tuple[int, int]:
    accepted = patient.upload(clip, "squat")
    patient.wait_job(
        accepted["job_id"],
        timeout=300,
        until=lambda j: j["progress"] >= 20 or j["status"] != "running" and j["status"] != "queued",
    )
    workers = server.children()
    server.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "analysis workers outlived the killed server"
    return accepted["job_id"], accepted["session_id"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_killed_server_loses_no_upload_and_no_finished_session(tmp_path_factory, tmp_path, two_squats):
    _engine_ready()
    data_dir = tmp_path_factory.mktemp("kill")
    server = ServerProcess(data_dir, workers=2).start()
    try:
        _, patient, _ = setup_accounts(server)
        finished = patient.upload(cut_clip(tmp_path / "short.mp4", 0, 3.0), "squat")
        assert patient.wait_job(finished["job_id"])["status"] == "done"
        before = patient.get(f"/api/sessions/{finished['session_id']}").json()

        job_id, session_id = _kill_mid_job(server, patient, two_squats)
        assert len(list((data_dir / "uploads").iterdir())) == 1  # the upload survived the kill
        server.start()  # same data folder and database: the job is resumed
        patient.login("patient1", "bench password 123")
        # a normal stop while the resumed job runs puts it back in the queue without counting an attempt
        patient.wait_job(job_id, timeout=300, until=lambda j: j["progress"] >= 20 or j["status"] == "done")
        server.stop()
        server.start()
        patient.login("patient1", "bench password 123")
        job = patient.wait_job(job_id)
        assert job["status"] == "done" and job["attempts"] == 2
        assert patient.get(f"/api/sessions/{session_id}").json()["rep_count"] == 2
        assert patient.get(f"/api/sessions/{finished['session_id']}").json() == before
        server.stop()

        # a job interrupted too often is failed cleanly, keeps its upload and can be retried
        server = ServerProcess(data_dir, workers=2, env={"FORMCHECK_JOB_MAX_ATTEMPTS": "1"}).start()
        patient = ApiClient(server.url).login("patient1", "bench password 123")
        job_id, session_id = _kill_mid_job(server, patient, two_squats)
        server.start()
        patient = ApiClient(server.url).login("patient1", "bench password 123")
        job = patient.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "failed" and "retry" in job["error"]
        assert patient.post(f"/api/jobs/{job_id}/retry").status_code == 202
        assert patient.wait_job(job_id)["status"] == "done"
        assert patient.get(f"/api/sessions/{session_id}").json()["rep_count"] == 2
        assert patient.get(f"/api/sessions/{finished['session_id']}").json() == before
    finally:
        server.stop()
