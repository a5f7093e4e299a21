"""Helpers for the API tests: an app on a temporary SQLite file, accounts, logins, stored sessions."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from formcheck.core.events import FormWarning, PainReported, RepCompleted
from formcheck.storage.database import Store
from server.app import create_app
from server.core.settings import Settings
from server.services.accounts import create_user

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "samples" / "squat_side.mp4"
PASSWORD = "correct horse battery"


class RecordingRunner:
    """Job runner for fast tests that only checks what was submitted (no analysis runs)."""

    def __init__(self):
        self.submitted: list[int] = []
        self.cancelled: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    def cancel(self, job_id: int) -> None:
        self.cancelled.append(job_id)

    def resume(self) -> list[int]:
        return []

    def shutdown(self) -> None:
        pass


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(data_dir=tmp_path / "data", secret_key="test-secret-" + "x" * 40, job_workers=0)
    values.update(overrides)
    return Settings(**values)


@contextmanager
def api_client(settings: Settings, run_jobs: bool = False):
    """A TestClient on a fresh app; jobs are only recorded unless ``run_jobs``."""
    app = create_app(settings)
    with TestClient(app) as client:
        if not run_jobs:
            app.state.jobs.shutdown()
            app.state.jobs = RecordingRunner()
        yield client


def add_user(client: TestClient, username: str, role: str = "therapist", therapist: str | None = None) -> int:
    store: Store = client.app.state.store
    return create_user(store, username, PASSWORD, role, therapist=therapist)


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # tests authenticate with the header unless they test the cookie
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def create_patient(client: TestClient, therapist_headers: dict, username: str, level: str = "initial") -> int:
    r = client.post(
        "/api/patients",
        json={"username": username, "password": PASSWORD, "display_name": username.title(), "level": level},
        headers=therapist_headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def stored_session(client: TestClient, patient_id: int, exercise: str = "squat", reps: int = 3) -> int:
    """A finished live session written through the store, as ``formcheck live`` does."""
    store: Store = client.app.state.store
    sid = store.start_session(kind="live", title=exercise, patient_id=patient_id)
    set_id = store.start_set(sid, exercise, target_reps=reps)
    events = [
        RepCompleted(
            t=2.0 * i + 2,
            index=i + 1,
            start_s=2.0 * i,
            end_s=2.0 * i + 2,
            range_of_motion=90.0,
            tempo_s=2.0,
            score=80.0 + i,
            faults=("knees_in",) if i == 0 else (),
        )
        for i in range(reps)
    ]
    events += [FormWarning(t=1.0, rule="knees_in", message="=push your knees out"), PainReported(t=3.0, rating=2)]
    store.add_events(sid, exercise, events, set_id)
    store.end_set(set_id, 2.0 * reps)
    store.finish_session(
        sid,
        report={"duration_s": 2.0 * reps, "frames": 30 * reps, "frames_with_person": 30 * reps},
        series={exercise: {"t": [0.0, 1.0], "knee": [170.0, 90.0]}},
    )
    return sid
