"""Private files and responses: the data folder 0700 with files 0600; ``nosniff`` on every response and
``no-store`` on everything private (API, CSV, PDF, video); datetimes with their time zone."""

from __future__ import annotations

import os
import stat
import time

import httpx
import pytest
from apiutil import PASSWORD, SAMPLE, add_user, api_client, create_patient, login, make_settings, stored_session
from distutil import cut_clip
from securityutil import serve

from formcheck.storage.database import ExerciseSession


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def api(tmp_path):
    settings = make_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "videos").mkdir(mode=0o755)
    old = settings.data_dir / "videos" / "old.webm"
    old.write_bytes(b"\x1a\x45\xdf\xa3 not really a video")
    os.chmod(old, 0o644)
    with api_client(settings) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        pid = create_patient(client, therapist, "pat1")
        sid = stored_session(client, pid)
        with client.app.state.store.session() as db, db.begin():
            db.get(ExerciseSession, sid).video_file = "old.webm"
        yield client, therapist, sid, settings


def test_the_data_folder_is_private(api):
    client, _, _, settings = api
    r = client.post("/api/uploads", headers=login(client, "pat1"), data={"exercise": "squat"},
                    files={"file": ("clip.mp4", SAMPLE.read_bytes(), "video/mp4")})
    assert r.status_code == 202, r.text
    for folder in (settings.data_dir, settings.upload_dir, settings.video_dir, settings.landmarks_dir):
        assert mode(folder) == 0o700, folder
    assert mode(settings.data_dir / "formcheck.db") == 0o600
    assert [mode(p) for p in settings.upload_dir.iterdir()] == [0o600]
    assert mode(settings.video_dir / "old.webm") == 0o600  # made before the server started: fixed at start


def test_private_responses_are_not_stored_or_sniffed(api):
    client, therapist, sid, _ = api
    for path in ("/api/health", "/api/me", f"/api/sessions/{sid}", f"/api/sessions/{sid}/export.csv",
                 f"/api/sessions/{sid}/export.json", f"/api/sessions/{sid}/video", f"/sessions/{sid}/report.pdf",
                 "/api/sessions/999999", "/therapist"):
        r = client.get(path, headers=therapist)
        assert r.status_code < 500, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["cache-control"] == "no-store", path
    unauthenticated = client.get("/api/me")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["cache-control"] == "no-store"
    static = client.get("/static/web/app.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in static.headers.get("cache-control", "")


def test_datetimes_carry_their_time_zone(api):
    client, therapist, sid, _ = api
    started = client.get(f"/api/sessions/{sid}", headers=therapist).json()["started_at"]
    assert started.endswith(("Z", "+00:00")), started
    summary = client.get("/api/sessions", headers=therapist).json()[0]
    assert summary["started_at"].endswith(("Z", "+00:00"))


@pytest.mark.slow
def test_files_written_by_the_real_server_are_private(tmp_path):
    """``formcheck serve`` analyses a kept-video upload: every file it wrote is 0600 and every folder 0700."""
    clip = cut_clip(tmp_path / "clip.mp4", 7.5, 3.0)  # what is written matters here, not how many squats
    with serve(tmp_path) as server:
        assert server.formcheck("users", "add", "ther1", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
        token = httpx.post(f"{server.url}/api/auth/token", data={"username": "ther1", "password": PASSWORD}
                           ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{server.url}/api/patients", headers=headers,
                       json={"username": "pat1", "password": PASSWORD})
        pid = r.json()["id"]
        httpx.patch(f"{server.url}/api/patients/{pid}", headers=headers, json={"keep_videos": True})
        r = httpx.post(f"{server.url}/api/uploads", headers=headers, timeout=60,
                       data={"exercise": "squat", "patient_id": str(pid)},
                       files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")})
        assert r.status_code == 202, r.text
        job = r.json()["job_id"]
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/api/jobs/{job}", headers=headers).json()["status"]
            if status in ("done", "failed"):
                break
            time.sleep(0.5)
        assert status == "done"
        video = httpx.get(f"{server.url}/api/sessions/{r.json()['session_id']}/video", headers=headers)
        assert video.status_code == 200 and video.headers["cache-control"] == "no-store"
        assert video.headers["x-content-type-options"] == "nosniff"
    written = [p for p in server.data_dir.rglob("*")]
    assert any(p.parent.name == "videos" for p in written)
    loose = {str(p.relative_to(server.data_dir)): oct(mode(p)) for p in written
             if mode(p) != (0o700 if p.is_dir() else 0o600)}
    assert loose == {}, loose
