"""The store and the API on PostgreSQL (a clinic's database). Skips when no server answers on 127.0.0.1:5432."""

from __future__ import annotations

import uuid

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session
from sqlalchemy import create_engine, text

BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url():
    pytest.importorskip("psycopg")
    admin = create_engine(BASE_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {BASE_URL}: {type(exc).__name__}")
    schema = f"fc_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{BASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_migrations_and_api_on_postgresql(pg_url, tmp_path):
    from formcheck.migrations import current_revision
    from formcheck.store import Store

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
