"""The store and the API on PostgreSQL (a clinic's database). Skips when no server answers on 127.0.0.1:5432."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session
from distutil import postgres_schema


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema at 127.0.0.1:5432 (dropped afterwards); skips when no server answers."""
    with postgres_schema() as url:
        yield url


def test_migrations_and_api_on_postgresql(pg_url, tmp_path):
    from formcheck.storage.database import Store
    from formcheck.storage.migrations import current_revision

    store = Store(pg_url)
    assert current_revision(store.engine) is not None
    store.close()
    with api_client(make_settings(tmp_path, database_url=pg_url)) as client:
        assert client.get("/api/health").json()["database"] == "postgresql"
        add_user(client, "ther1")
        add_user(client, "ther2")
        t1, t2 = login(client, "ther1"), login(client, "ther2")
        pid = create_patient(client, t1, "pat_a")
        other = create_patient(client, t2, "pat_c")
        sid = stored_session(client, pid, reps=3)
        other_sid = stored_session(client, other, reps=1)
        patient = login(client, "pat_a")
        detail = client.get(f"/api/sessions/{sid}", headers=patient).json()
        assert detail["rep_count"] == 3 and [p["rating"] for p in detail["pain"]] == [2]
        assert client.get(f"/api/sessions/{other_sid}", headers=patient).status_code == 404
        assert client.get(f"/api/patients/{other}", headers=t1).status_code == 404
        assert {s["id"] for s in client.get("/api/sessions", headers=t1).json()} == {sid}
        trends = client.get(f"/api/patients/{pid}/trends", headers=t1).json()
        assert trends["exercises"]["squat"][0]["reps_done"] == 3
        assert client.get(f"/api/sessions/{sid}/export.csv", headers=t1).text.count(",rep,") == 3
        r = client.post(f"/api/patients/{pid}/level", json={"level": "advanced", "accept": True}, headers=t1)
        assert r.json()["programme"] == "advanced"


@pytest.mark.slow
def test_upload_analysed_into_postgresql(pg_url, tmp_path):
    """A real (short) clip analysed by the real model in the job layer, stored in PostgreSQL."""
    import time

    import cv2
    from apiutil import SAMPLE

    from server.services.catalog import exercise_ids

    if "squat" not in exercise_ids():
        pytest.skip("the exercise catalog has no squat yet")
    clip = tmp_path / "short.mp4"
    source = cv2.VideoCapture(str(SAMPLE))
    writer = None
    for _ in range(60):
        ok, image = source.read()
        if writer is None:
            writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, image.shape[1::-1])
        writer.write(image)
    writer.release()
    with api_client(make_settings(tmp_path, database_url=pg_url, job_workers=0), run_jobs=True) as client:
        add_user(client, "ther1")
        create_patient(client, login(client, "ther1"), "pat_a")
        patient = login(client, "pat_a")
        r = client.post(
            "/api/uploads", data={"exercise": "squat"}, files={"file": ("c.mp4", clip.read_bytes())}, headers=patient
        )
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 300
        while (job := client.get(f"/api/jobs/{r.json()['job_id']}", headers=patient).json())["status"] in (
            "queued",
            "running",
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job["status"] == "done", job
        session = client.get(f"/api/sessions/{r.json()['session_id']}", headers=patient).json()
        assert (
            session["status"] == "completed" and session["frames"] == 60 and session["sets"][0]["exercise"] == "squat"
        )
