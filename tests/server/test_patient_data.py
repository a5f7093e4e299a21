"""A patient's data: the whole of it as a zip (their therapist or themself, nobody else) and its erasure (their
therapist, confirmed): no row and no file of theirs is left, other patients are untouched, the audit log keeps
the erasure. Real files: a kept annotated video and a kept upload in the video storage."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from apiutil import SAMPLE, add_user, api_client, create_patient, login, make_settings, stored_session
from distutil import moto_s3
from securityutil import pg_url  # noqa: F401  (fixture)
from sqlalchemy import func, select

from formcheck.storage.database import (
    AuditEntry,
    Base,
    ExerciseSession,
    Job,
    LevelChange,
    Note,
    PainReport,
    Rep,
    User,
)
from server.storage.videos import UPLOADS, VIDEOS, new_name, video_store


def _keep_files(client, settings, tmp_path, sid: int) -> tuple[str, str]:
    """A kept annotated video on the session and a kept upload on a failed job of it (copies of the sample)."""
    store = video_store(settings)
    names = []
    for kind in (VIDEOS, UPLOADS):
        local = tmp_path / f"{kind}.mp4"
        local.write_bytes(SAMPLE.read_bytes())
        name = new_name("mp4")
        store.put(kind, name, local)
        names.append(name)
    with client.app.state.store.session() as db, db.begin():
        db.get(ExerciseSession, sid).video_file = names[0]
        db.add(Job(session_id=sid, upload_file=names[1], exercise="squat", status="failed", error="test"))
    return names[0], names[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on a free loopback port: (endpoint, storage URL of a fresh bucket)."""
    with moto_s3() as endpoint_and_url:
        yield endpoint_and_url


@pytest.fixture(params=["sqlite", "postgresql", "sqlite+s3"])
def clinic(request, tmp_path):
    """A therapist, their patient pat1 (two sessions, a note, a level change, a kept video and upload) and another
    patient pat2 with a kept video; on SQLite or PostgreSQL, videos in the data folder or in S3 (moto)."""
    overrides = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    if request.param.endswith("s3"):
        endpoint, storage_url = request.getfixturevalue("s3_server")
        overrides.update(storage_url=f"{storage_url}-{uuid.uuid4().hex[:8]}", s3_endpoint_url=endpoint)
    settings = make_settings(tmp_path, **overrides)
    with api_client(settings) as client:
        add_user(client, "thera")
        add_user(client, "other_thera")
        therapist = login(client, "thera")
        pid = create_patient(client, therapist, "pat1")
        sid = stored_session(client, pid, reps=3)
        keep_sid = stored_session(client, pid, reps=2)
        client.post(f"/api/sessions/{sid}/notes", headers=therapist, json={"text": "good depth"})
        client.post(f"/api/patients/{pid}/level", headers=therapist, json={"level": "intermediate"})
        other_pid = create_patient(client, therapist, "pat2")
        other_sid = stored_session(client, other_pid, reps=4)
        video, upload = _keep_files(client, settings, tmp_path, keep_sid)
        other_video, _ = _keep_files(client, settings, tmp_path, other_sid)
        yield dict(client=client, settings=settings, therapist=therapist, pid=pid, sids=(sid, keep_sid),
                   video=video, upload=upload, other_pid=other_pid, other_sid=other_sid, other_video=other_video)


def test_export_zip_holds_everything_of_the_patient(clinic):
    c, pid = clinic["client"], clinic["pid"]
    sid, keep_sid = clinic["sids"]
    for headers in (clinic["therapist"], login(c, "pat1")):
        r = c.get(f"/api/patients/{pid}/export.zip", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        zf = zipfile.ZipFile(io.BytesIO(r.content))
        names = set(zf.namelist())
        assert {f"sessions/{sid}.json", f"sessions/{sid}.csv", f"sessions/{keep_sid}.json", "account.json",
                "notes.json", "pain.json", "jobs.json", f"videos/session-{keep_sid}.mp4"} <= names
        assert any(n.startswith("uploads/job-") for n in names)
        assert not any(str(clinic["other_sid"]) in n.split("/")[-1].split(".")[0] for n in names if "sessions/" in n)
        account = json.loads(zf.read("account.json"))
        assert account["username"] == "pat1" and account["level"] == "intermediate"
        raw = zf.read("account.json").decode()
        assert "password_hash" not in raw and "argon2" not in raw and "token_version" not in raw
        assert account["programme"]["name"] and account["level_changes"][0]["to_level"] == "intermediate"
        assert json.loads(zf.read(f"sessions/{sid}.json"))["rep_count"] == 3
        assert zf.read(f"sessions/{sid}.csv").decode().count(",rep,") == 3
        assert [n["text"] for n in json.loads(zf.read("notes.json"))] == ["good depth"]
        assert [p["rating"] for p in json.loads(zf.read("pain.json"))] == [2, 2]
        assert zf.read(f"videos/session-{keep_sid}.mp4") == SAMPLE.read_bytes()
    tmp = clinic["settings"].data_dir / "tmp"
    assert not list(tmp.glob("*.zip")), "the temporary zip is removed once sent"


def test_export_and_erasure_are_refused_to_others(clinic):
    c, pid = clinic["client"], clinic["pid"]
    other = login(c, "other_thera")
    assert c.get(f"/api/patients/{pid}/export.zip", headers=other).status_code == 404
    assert c.get(f"/api/patients/{pid}/export.zip", headers=login(c, "pat2")).status_code == 404
    assert c.request("DELETE", f"/api/patients/{pid}", headers=other, json={"confirm": "pat1"}).status_code == 404
    assert c.request("DELETE", f"/api/patients/{pid}", headers=login(c, "pat1"),
                     json={"confirm": "pat1"}).status_code == 403
    r = c.request("DELETE", f"/api/patients/{pid}", headers=clinic["therapist"], json={"confirm": "pat2"})
    assert r.status_code == 422 and "confirm" in r.json()["detail"]
    assert c.request("DELETE", f"/api/patients/{pid}", headers=clinic["therapist"]).status_code == 422
    assert c.get(f"/api/patients/{pid}", headers=clinic["therapist"]).status_code == 200


def _count(db, table, *where) -> int:
    return db.scalar(select(func.count()).select_from(table).where(*where))


def test_erasure_leaves_no_row_and_no_file_of_the_patient(clinic):
    c, pid, settings = clinic["client"], clinic["pid"], clinic["settings"]
    sids = clinic["sids"]
    store = video_store(settings)
    assert store.exists(VIDEOS, clinic["video"]) and store.exists(UPLOADS, clinic["upload"])
    r = c.request("DELETE", f"/api/patients/{pid}", headers=clinic["therapist"], json={"confirm": "pat1"})
    assert r.status_code == 204, r.text
    assert not store.exists(VIDEOS, clinic["video"]) and not store.exists(UPLOADS, clinic["upload"])
    assert store.exists(VIDEOS, clinic["other_video"])
    with c.app.state.store.session() as db:
        assert db.get(User, pid) is None
        assert _count(db, ExerciseSession, ExerciseSession.patient_id == pid) == 0
        for table in (Rep, PainReport, Note, Job):
            assert _count(db, table, table.session_id.in_(sids)) == 0, table.__tablename__
        assert _count(db, LevelChange, LevelChange.patient_id == pid) == 0
        # every table that names a session: nothing of the erased patient's sessions is left
        for table in Base.metadata.sorted_tables:
            if "session_id" in table.c and table.name != "audit_log":
                assert db.scalar(select(func.count()).select_from(table).where(table.c.session_id.in_(sids))) == 0
        erase = db.scalars(select(AuditEntry).where(AuditEntry.action == "patient.erase")).all()
        assert [(e.patient_id, e.username) for e in erase] == [(pid, "thera")]
        assert _count(db, AuditEntry, AuditEntry.patient_id == pid) >= 2  # earlier entries are kept
    assert c.get(f"/api/patients/{pid}", headers=clinic["therapist"]).status_code == 404
    assert c.get(f"/api/sessions/{sids[0]}", headers=clinic["therapist"]).status_code == 404
    other = c.get(f"/api/sessions/{clinic['other_sid']}", headers=clinic["therapist"]).json()
    assert other["rep_count"] == 4 and other["video_url"]
    assert c.get(f"/api/sessions/{clinic['other_sid']}/video", headers=clinic["therapist"]).status_code == 200


def test_erasure_waits_for_a_session_in_progress(clinic):
    c, pid = clinic["client"], clinic["pid"]
    live = c.app.state.store.start_session(kind="live", title="squat", patient_id=pid)
    r = c.request("DELETE", f"/api/patients/{pid}", headers=clinic["therapist"], json={"confirm": "pat1"})
    assert r.status_code == 409 and str(live) in r.json()["detail"]
    assert c.get(f"/api/patients/{pid}", headers=clinic["therapist"]).status_code == 200
