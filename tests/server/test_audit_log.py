"""The audit log: each audited action writes exactly one entry (who, what, which patient and session, when, from
where); only the clinic admin reads it, filtered and newest first; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session
from securityutil import pg_url  # noqa: F401  (fixture)

from formcheck.storage.database import AuditEntry, ExerciseSession
from server.storage.videos import VIDEOS, new_name, video_store


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic(request, tmp_path):
    """(client, therapist headers, patient id, session id, admin headers) on either database."""
    overrides = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    settings = make_settings(tmp_path, **overrides)
    with api_client(settings) as client:
        add_user(client, "thera")
        add_user(client, "clinic_admin", role="admin")
        therapist = login(client, "thera")
        pid = create_patient(client, therapist, "pat1")
        sid = stored_session(client, pid)
        kept = tmp_path / "annotated.mp4"
        kept.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
        name = new_name("mp4")
        video_store(settings).put(VIDEOS, name, kept)
        with client.app.state.store.session() as db, db.begin():
            db.get(ExerciseSession, sid).video_file = name
        yield client, therapist, pid, sid, login(client, "clinic_admin")


def _entries(client) -> list[AuditEntry]:
    with client.app.state.store.session() as db:
        return list(db.query(AuditEntry).order_by(AuditEntry.id))


AUDITED = [
    ("session.view", "GET", "/api/sessions/{sid}", None),
    ("session.export_json", "GET", "/api/sessions/{sid}/export.json", None),
    ("session.export_csv", "GET", "/api/sessions/{sid}/export.csv", None),
    ("session.report_pdf", "GET", "/sessions/{sid}/report.pdf", None),
    ("session.video", "GET", "/api/sessions/{sid}/video", None),
    ("session.note", "POST", "/api/sessions/{sid}/notes", {"text": "keep the knees out"}),
    ("patient.level", "POST", "/api/patients/{pid}/level", {"level": "advanced", "accept": True}),
    ("patient.level", "PATCH", "/api/patients/{pid}", {"level": "intermediate"}),
]


def test_each_audited_action_writes_one_entry_with_who_what_where(clinic):
    client, therapist, pid, sid, _ = clinic
    therapist_id = client.get("/api/me", headers=therapist).json()["id"]
    for action, method, path, body in AUDITED:
        before = len(_entries(client))
        r = client.request(method, path.format(sid=sid, pid=pid), headers=therapist, json=body)
        assert r.status_code in (200, 201), (action, r.text)
        new = _entries(client)[before:]
        assert len(new) == 1, (action, [e.action for e in new])
        entry = new[0]
        assert (entry.action, entry.user_id, entry.username, entry.role) == (action, therapist_id, "thera", "therapist")
        assert entry.patient_id == pid
        assert entry.session_id == (sid if action.startswith("session.") else None)
        assert entry.address == "testclient"
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)


def test_refused_access_is_not_logged_as_access(clinic):
    client, _, pid, sid, _ = clinic
    add_user(client, "other_thera")
    other = login(client, "other_thera")
    before = len(_entries(client))
    assert client.get(f"/api/sessions/{sid}", headers=other).status_code == 404
    assert client.get(f"/api/sessions/{sid}/export.csv", headers=other).status_code == 404
    assert [e.action for e in _entries(client)[before:]] == []


def test_logins_and_failed_logins_are_logged(clinic):
    client, *_ = clinic
    before = len(_entries(client))
    assert client.post("/api/auth/token", data={"username": "thera", "password": "wrong password!"}).status_code == 401
    login(client, "thera")
    new = _entries(client)[before:]
    assert [(e.action, e.username, e.user_id is None) for e in new] == [("login.failed", "thera", True),
                                                                      ("login", "thera", False)]


def test_only_the_admin_reads_the_log_filtered_and_newest_first(clinic):
    client, therapist, pid, sid, admin = clinic
    patient = login(client, "pat1")
    client.get(f"/api/sessions/{sid}", headers=patient)
    client.get(f"/api/sessions/{sid}/export.csv", headers=therapist)
    for headers in (therapist, patient):
        assert client.get("/api/audit", headers=headers).status_code == 403
    assert client.get("/api/audit").status_code == 401

    rows = client.get("/api/audit", headers=admin).json()
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert rows[0]["action"] == "session.export_csv" and rows[0]["username"] == "thera"
    assert datetime.fromisoformat(rows[0]["at"]).tzinfo is not None
    views = client.get("/api/audit", headers=admin, params={"patient_id": pid, "action": "session.view"}).json()
    assert [(r["username"], r["role"], r["session_id"]) for r in views] == [("pat1", "patient", sid)]
    assert client.get("/api/audit", headers=admin, params={"username": "pat1", "action": "login"}).json()
    page = client.get("/api/audit", headers=admin, params={"limit": 1, "offset": 1}).json()
    assert [r["id"] for r in page] == [rows[1]["id"]]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/audit", headers=admin, params={"since": later}).json() == []
    assert client.get("/api/audit", headers=admin, params={"action": "nonsense"}).status_code == 422


def test_the_admin_sees_no_health_data(clinic):
    client, _, pid, sid, admin = clinic
    assert client.get("/api/sessions", headers=admin).json() == []
    for path in (f"/api/sessions/{sid}", f"/api/patients/{pid}", f"/api/patients/{pid}/trends",
                 f"/sessions/{sid}/report.pdf", f"/api/sessions/{sid}/export.csv"):
        assert client.get(path, headers=admin).status_code == 404, path
    assert client.get("/api/patients", headers=admin).status_code == 403
    token = admin["Authorization"].split()[1]
    with client.websocket_connect(f"/api/live?exercise=squat&token={token}") as ws:
        assert ws.receive_json()["status"] == 403
