"""Programmes and levels: built-ins seeded, therapists' own programmes, assignment, level changes, trends."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session
from sqlalchemy import select

from formcheck.storage.database import LevelChange
from server.services.catalog import exercise_ids


@pytest.fixture
def api(tmp_path):
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        add_user(client, "other")
        yield client, login(client, "thera"), login(client, "other")


def builtin(client, headers, level):
    return next(
        p for p in client.get("/api/programmes", headers=headers).json() if p["builtin"] and p["level"] == level
    )


def test_builtin_programmes_are_seeded_and_read_only(api):
    client, t1, _ = api
    progs = client.get("/api/programmes", headers=t1).json()
    assert {p["level"] for p in progs if p["builtin"]} >= {"initial", "intermediate", "advanced"}
    initial = builtin(client, t1, "initial")
    assert initial["items"] and all("exercise" in i for i in initial["items"])
    r = client.put(f"/api/programmes/{initial['id']}", json={"name": "x", "items": initial["items"]}, headers=t1)
    assert r.status_code == 403
    assert client.delete(f"/api/programmes/{initial['id']}", headers=t1).status_code == 403


def test_new_patient_gets_the_programme_of_their_level_and_today_view(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1", level="intermediate")
    patient = client.get(f"/api/patients/{pid}", headers=t1).json()
    assert patient["programme_id"] == builtin(client, t1, "intermediate")["id"]
    today = client.get("/api/me/programme", headers=login(client, "pat1")).json()
    assert today["level"] == "intermediate" and today["programme"]["id"] == patient["programme_id"]
    assert len(today["items"]) == len(today["programme"]["items"])
    if exercise_ids():
        assert all(i["instructions"] and i["name"] for i in today["items"] if i["exercise"] in exercise_ids())


def test_custom_programme_crud_and_validation(api):
    ids = exercise_ids()
    if not ids:
        pytest.skip("the exercise catalog is not installed yet")
    client, t1, t2 = api
    body = {"name": "Mine", "items": [{"exercise": ids[0], "reps": 8, "sets": 2}]}
    r = client.post("/api/programmes", json=body, headers=t1)
    assert r.status_code == 201, r.text
    prog = r.json()
    assert not prog["builtin"]
    bad = {"name": "Bad", "items": [{"exercise": "no_such_exercise", "reps": 8}]}
    r = client.post("/api/programmes", json=bad, headers=t1)
    assert r.status_code == 422 and "no_such_exercise" in r.json()["detail"]
    r = client.post("/api/programmes", json={"name": "No target", "items": [{"exercise": ids[0]}]}, headers=t1)
    assert r.status_code == 422 and "target" in r.json()["detail"]
    # another therapist neither sees nor changes it
    assert client.get(f"/api/programmes/{prog['id']}", headers=t2).status_code == 404
    assert prog["id"] not in {p["id"] for p in client.get("/api/programmes", headers=t2).json()}
    assert client.put(f"/api/programmes/{prog['id']}", json=body, headers=t2).status_code == 404
    # assign it; then it cannot be deleted; another therapist cannot assign it
    pid = create_patient(client, t1, "pat1")
    r = client.patch(f"/api/patients/{pid}", json={"programme_id": prog["id"]}, headers=t1)
    assert r.status_code == 200 and r.json()["programme"] == "Mine"
    other_pid = create_patient(client, t2, "pat2")
    r = client.patch(f"/api/patients/{other_pid}", json={"programme_id": prog["id"]}, headers=t2)
    assert r.status_code == 422
    assert client.delete(f"/api/programmes/{prog['id']}", headers=t1).status_code == 409
    patient = login(client, "pat1")
    assert client.get(f"/api/programmes/{prog['id']}", headers=patient).status_code == 200
    body["name"] = "Renamed"
    assert client.put(f"/api/programmes/{prog['id']}", json=body, headers=t1).json()["name"] == "Renamed"
    client.patch(f"/api/patients/{pid}", json={"programme_id": None}, headers=t1)
    assert client.delete(f"/api/programmes/{prog['id']}", headers=t1).status_code == 204


def test_level_change_is_recorded_and_assigns_the_level_programme(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    r = client.post(f"/api/patients/{pid}/level", json={"level": "intermediate", "accept": True}, headers=t1)
    assert r.status_code == 200
    assert r.json()["level"] == "intermediate"
    assert r.json()["programme_id"] == builtin(client, t1, "intermediate")["id"]
    with client.app.state.store.session() as db:
        changes = db.scalars(select(LevelChange).where(LevelChange.patient_id == pid)).all()
        assert [(c.from_level, c.to_level) for c in changes] == [("initial", "intermediate")]


def test_level_suggestion_needs_good_sessions_and_no_pain(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    s = client.get(f"/api/patients/{pid}/level-suggestion", headers=t1).json()
    assert s["suggest"] is False and s["to_level"] == "intermediate"
    for _ in range(3):
        stored_session(client, pid, reps=3)  # targets met, scores 80-82, but each has a pain report
    s = client.get(f"/api/patients/{pid}/level-suggestion", headers=t1).json()
    assert s["suggest"] is False and "pain" in s["reason"].lower()


def test_level_suggestion_after_three_good_sessions(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    store = client.app.state.store
    from formcheck.core.events import RepCompleted

    for _ in range(3):
        sid = store.start_session(kind="live", title="squat", patient_id=pid)
        set_id = store.start_set(sid, "squat", target_reps=2)
        store.add_events(
            sid,
            "squat",
            [
                RepCompleted(t=i, index=i, start_s=i - 1, end_s=i, range_of_motion=80, tempo_s=1, score=90)
                for i in (1, 2)
            ],
            set_id,
        )
        store.finish_session(sid)
    s = client.get(f"/api/patients/{pid}/level-suggestion", headers=t1).json()
    assert s == {"suggest": True, "to_level": "intermediate", "reason": s["reason"]} and "3" in s["reason"]


def _good_session(store, pid: int, score: float = 90) -> None:
    from formcheck.core.events import RepCompleted

    sid = store.start_session(kind="live", title="squat", patient_id=pid)
    set_id = store.start_set(sid, "squat", target_reps=2)
    events = [RepCompleted(t=i, index=i, start_s=i - 1, end_s=i, range_of_motion=80, tempo_s=1, score=score)
              for i in (1, 2)]
    store.add_events(sid, "squat", events, set_id)
    store.finish_session(sid)


def test_declined_level_up_is_recorded_and_suggested_again_after_more_good_sessions(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    store = client.app.state.store
    for _ in range(3):
        _good_session(store, pid)
    url = f"/api/patients/{pid}/level-suggestion"
    assert client.get(url, headers=t1).json()["suggest"] is True
    r = client.post(f"/api/patients/{pid}/level", json={"level": "intermediate", "accept": False}, headers=t1)
    assert r.status_code == 200 and r.json()["level"] == "initial"
    with store.session() as db:
        changes = db.scalars(select(LevelChange).where(LevelChange.patient_id == pid)).all()
        assert [(c.from_level, c.to_level, c.decision) for c in changes] == [("initial", "intermediate", "declined")]
    s = client.get(url, headers=t1).json()
    assert s["suggest"] is False and "declined" in s["reason"] and "(0 so far)" in s["reason"]
    _good_session(store, pid)
    _good_session(store, pid, score=40)  # poor form: the count starts again
    _good_session(store, pid)
    s = client.get(url, headers=t1).json()
    assert s["suggest"] is False and "(1 so far)" in s["reason"]
    _good_session(store, pid)
    assert client.get(url, headers=t1).json()["suggest"] is False
    _good_session(store, pid)
    s = client.get(url, headers=t1).json()
    assert s["suggest"] is True and s["to_level"] == "intermediate" and "declined" in s["reason"]
    r = client.post(f"/api/patients/{pid}/level", json={"level": "intermediate", "accept": True}, headers=t1)
    assert r.json()["level"] == "intermediate"
    s = client.get(url, headers=t1).json()  # a new level: the decline at the old one no longer counts
    assert s["suggest"] is False and s["to_level"] == "advanced" and "declined" not in s["reason"]


def test_patient_overview_and_trends(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    stored_session(client, pid, reps=3)
    listed = client.get("/api/patients", headers=t1).json()[0]
    assert listed["sessions_done"] == 1 and listed["last_session_at"] and "pain" in listed["flags"]
    assert 0 < listed["adherence"] <= 1
    assert listed["adherence_text"] == "1 of 1 planned session since joining today (100%)"
    trends = client.get(f"/api/patients/{pid}/trends", headers=t1).json()
    week = trends["exercises"]["squat"][0]
    assert week["reps_done"] == 3 and week["reps_target"] == 3 and week["avg_score"] == 81.0
    assert [p["rating"] for p in trends["pain"]] == [2]


def test_exports_quote_formula_like_text(api):
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    sid = stored_session(client, pid)
    csv = client.get(f"/api/sessions/{sid}/export.csv", headers=t1).text
    assert "'=push your knees out" in csv and ",=push" not in csv
    data = client.get(f"/api/sessions/{sid}/export.json", headers=t1).json()
    assert data["rep_count"] == 3 and data["series"]["squat"]["knee"] == [170.0, 90.0]


def test_patch_level_moves_a_builtin_programme_along_but_keeps_a_custom_one(api):
    ids = exercise_ids()
    client, t1, _ = api
    pid = create_patient(client, t1, "pat1")
    r = client.patch(f"/api/patients/{pid}", json={"level": "advanced"}, headers=t1)
    assert r.json()["programme"] == "advanced"
    if not ids:
        return
    mine = client.post(
        "/api/programmes", json={"name": "Mine", "items": [{"exercise": ids[0], "reps": 5}]}, headers=t1
    ).json()
    client.patch(f"/api/patients/{pid}", json={"programme_id": mine["id"]}, headers=t1)
    r = client.patch(f"/api/patients/{pid}", json={"level": "initial"}, headers=t1)
    assert r.json()["level"] == "initial" and r.json()["programme"] == "Mine"


def test_invalid_programme_requests_are_explained_in_plain_words(api):
    client, t1, _ = api
    r = client.post("/api/programmes", json={"name": "x", "level": "initial", "items": [{"exercise": "squat"}]},
                    headers=t1)
    assert r.status_code == 422 and "needs a target" in r.json()["detail"] and "Value error" not in r.json()["detail"]
    r = client.post("/api/programmes", content=b"not json", headers={**t1, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "the request body is not valid JSON"
    r = client.post("/api/programmes", json={"name": "x", "level": "initial", "titel": "x",
                                             "items": [{"exercise": "squat", "reps": 5}]}, headers=t1)
    assert r.status_code == 422 and "titel: unknown field" in r.json()["detail"]
