"""Roles and isolation: patient A never reads, lists, modifies or exports patient B's data; a therapist never
sees another therapist's patients. Another person's things are 404 (their existence is not revealed)."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session
from sqlalchemy import select

from formcheck.storage.database import ExerciseSession, Job


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Therapists T1 (patients A, B) and T2 (patient C), each patient with one stored session and one job."""
    tmp = tmp_path_factory.mktemp("iso")
    with api_client(make_settings(tmp)) as client:
        add_user(client, "ther1")
        add_user(client, "ther2")
        h = {"t1": login(client, "ther1"), "t2": login(client, "ther2")}
        ids = {
            "a": create_patient(client, h["t1"], "pat_a"),
            "b": create_patient(client, h["t1"], "pat_b"),
            "c": create_patient(client, h["t2"], "pat_c"),
        }
        h.update(a=login(client, "pat_a"), b=login(client, "pat_b"), c=login(client, "pat_c"))
        sessions = {k: stored_session(client, pid) for k, pid in ids.items()}
        jobs = {}
        with client.app.state.store.session() as db, db.begin():
            for k, sid in sessions.items():
                job = Job(session_id=sid, upload_file="x.video", exercise="squat", status="failed")
                db.add(job)
                db.flush()
                jobs[k] = job.id
        yield client, h, ids, sessions, jobs


SESSION_READS = ["", "/export.json", "/export.csv", "/video"]


@pytest.mark.parametrize("suffix", SESSION_READS)
@pytest.mark.parametrize("who,whose", [("a", "b"), ("b", "a"), ("a", "c"), ("t2", "a"), ("t1", "c")])
def test_others_sessions_are_404(world, who, whose, suffix):
    client, h, _, sessions, _ = world
    r = client.get(f"/api/sessions/{sessions[whose]}{suffix}", headers=h[who])
    assert r.status_code == 404, r.text
    assert r.json()["title"] == "Not found"


def test_404_for_another_patients_session_looks_like_a_missing_one(world):
    client, h, _, sessions, _ = world
    other = client.get(f"/api/sessions/{sessions['b']}", headers=h["a"]).json()
    missing = client.get("/api/sessions/999999", headers=h["a"]).json()
    assert other == missing


@pytest.mark.parametrize("who,whose", [("a", "a"), ("t1", "a"), ("t1", "b"), ("t2", "c")])
def test_own_and_own_patients_sessions_are_readable(world, who, whose):
    client, h, _, sessions, _ = world
    assert client.get(f"/api/sessions/{sessions[whose]}", headers=h[who]).status_code == 200
    csv = client.get(f"/api/sessions/{sessions[whose]}/export.csv", headers=h[who])
    assert csv.status_code == 200 and csv.text.count("\nrep") == 0 and ",rep," in csv.text


def test_lists_hold_only_visible_sessions(world):
    client, h, ids, sessions, _ = world
    mine = {s["id"] for s in client.get("/api/sessions", headers=h["a"]).json()}
    assert mine == {sessions["a"]}
    t1 = {s["id"] for s in client.get("/api/sessions", headers=h["t1"]).json()}
    assert t1 == {sessions["a"], sessions["b"]}
    t2 = {s["id"] for s in client.get("/api/sessions", headers=h["t2"]).json()}
    assert t2 == {sessions["c"]}
    for who, whose in [("a", "b"), ("t2", "a"), ("t1", "c")]:
        r = client.get("/api/sessions", params={"patient_id": ids[whose]}, headers=h[who])
        assert r.status_code == 404


def test_patient_list_is_own_patients_only(world):
    client, h, ids, _, _ = world
    assert {p["id"] for p in client.get("/api/patients", headers=h["t1"]).json()} == {ids["a"], ids["b"]}
    assert {p["id"] for p in client.get("/api/patients", headers=h["t2"]).json()} == {ids["c"]}
    assert client.get("/api/patients", headers=h["a"]).status_code == 403


@pytest.mark.parametrize("who,whose", [("a", "b"), ("t2", "a"), ("t1", "c")])
@pytest.mark.parametrize("path", ["", "/trends"])
def test_others_patient_records_are_404(world, who, whose, path):
    client, h, ids, _, _ = world
    assert client.get(f"/api/patients/{ids[whose]}{path}", headers=h[who]).status_code == 404


@pytest.mark.parametrize("who,whose", [("t2", "a"), ("t1", "c")])
def test_therapist_cannot_modify_another_therapists_patient(world, who, whose):
    client, h, ids, _, _ = world
    assert client.patch(f"/api/patients/{ids[whose]}", json={"level": "advanced"}, headers=h[who]).status_code == 404
    r = client.post(f"/api/patients/{ids[whose]}/level", json={"level": "advanced", "accept": True}, headers=h[who])
    assert r.status_code == 404
    assert client.get(f"/api/patients/{ids[whose]}/level-suggestion", headers=h[who]).status_code == 404
    owner = {"a": "t1", "c": "t2"}[whose]
    r = client.get(f"/api/patients/{ids[whose]}", headers=h[owner])
    assert r.json()["level"] == "initial"


def test_patient_cannot_modify_anything_of_another(world):
    client, h, ids, sessions, jobs = world
    assert client.patch(f"/api/patients/{ids['b']}", json={"keep_videos": True}, headers=h["a"]).status_code == 403
    assert client.post(f"/api/sessions/{sessions['b']}/pain", json={"rating": 5}, headers=h["a"]).status_code == 404
    assert client.post(f"/api/sessions/{sessions['b']}/notes", json={"text": "x"}, headers=h["a"]).status_code == 403
    assert client.post(f"/api/sessions/{sessions['b']}/notes", json={"text": "x"}, headers=h["t2"]).status_code == 404
    for action in ("", "/cancel", "/retry"):
        method = client.get if not action else client.post
        assert method(f"/api/jobs/{jobs['b']}{action}", headers=h["a"]).status_code == 404
        assert method(f"/api/jobs/{jobs['a']}{action}", headers=h["t2"]).status_code == 404
    with client.app.state.store.session() as db:
        row = db.scalars(select(ExerciseSession).where(ExerciseSession.id == sessions["b"])).one()
        assert len(row.pain_reports) == 1 and not row.notes  # only the pain report stored_session made


def test_uploads_for_another_therapists_patient_are_refused(world, tmp_path):
    client, h, ids, _, _ = world
    files = {"file": ("v.mp4", b"0" * 100, "video/mp4")}
    r = client.post("/api/uploads", data={"exercise": "squat", "patient_id": ids["c"]}, files=files, headers=h["t1"])
    assert r.status_code in (404, 422)  # 422 only while the exercise catalog has no squat
    if r.status_code == 422:
        assert "Unknown exercise" in r.json()["title"]
    r = client.post("/api/uploads", data={"exercise": "squat", "patient_id": ids["b"]}, files=files, headers=h["a"])
    assert r.status_code in (404, 422)


def test_own_patient_note_and_pain_work(world):
    client, h, _, sessions, _ = world
    r = client.post(f"/api/sessions/{sessions['a']}/notes", json={"text": "good depth"}, headers=h["t1"])
    assert r.status_code == 201
    r = client.post(f"/api/sessions/{sessions['a']}/pain", json={"rating": 4, "location": "lower back"}, headers=h["a"])
    assert r.status_code == 201
    d = client.get(f"/api/sessions/{sessions['a']}", headers=h["t1"]).json()
    assert [n["text"] for n in d["notes"]] == ["good depth"]
    assert [p["rating"] for p in d["pain"]] == [2, 4]
