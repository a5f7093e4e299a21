"""Hostile input on every endpoint, on SQLite and on PostgreSQL: ids past the database's range, NUL and other
control characters in text. Each is a clear 4xx problem, never a 500, and nothing is stored."""

from __future__ import annotations

import pytest
from apiutil import PASSWORD, SAMPLE, add_user, api_client, create_patient, login, make_settings, stored_session
from securityutil import pg_url  # noqa: F401  (fixture)

HUGE_IDS = [2**31, 2**63 - 1, 2**63, 10**30, 0, -1]


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, tmp_path):
    """(client, therapist headers, patient headers, patient id, session id, programme id) on either database."""
    overrides = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    with api_client(make_settings(tmp_path, **overrides)) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        pid = create_patient(client, therapist, "pat1")
        sid = stored_session(client, pid)
        prog = client.post("/api/programmes", headers=therapist, json={
            "name": "mine", "items": [{"exercise": "squat", "reps": 5}]}).json()["id"]
        yield client, therapist, login(client, "pat1"), pid, sid, prog


def id_requests(bad: int, pid: int, prog: int) -> list[tuple[str, str, dict]]:
    """(method, path, request keywords) with ``bad`` as every kind of id: path, query, JSON body, form field."""
    return [
        ("GET", f"/api/patients/{bad}", {}),
        ("PATCH", f"/api/patients/{bad}", {"json": {"level": "advanced"}}),
        ("GET", f"/api/patients/{bad}/trends", {}),
        ("GET", f"/api/patients/{bad}/level-suggestion", {}),
        ("POST", f"/api/patients/{bad}/level", {"json": {"level": "advanced"}}),
        ("PATCH", f"/api/patients/{pid}", {"json": {"programme_id": bad}}),
        ("GET", f"/api/sessions?patient_id={bad}", {}),
        ("GET", f"/api/sessions/{bad}", {}),
        ("GET", f"/api/sessions/{bad}/export.json", {}),
        ("GET", f"/api/sessions/{bad}/export.csv", {}),
        ("GET", f"/api/sessions/{bad}/video", {}),
        ("POST", f"/api/sessions/{bad}/notes", {"json": {"text": "hello"}}),
        ("POST", f"/api/sessions/{bad}/pain", {"json": {"rating": 3}}),
        ("GET", f"/sessions/{bad}/report.pdf", {}),
        ("GET", f"/api/jobs/{bad}", {}),
        ("POST", f"/api/jobs/{bad}/cancel", {}),
        ("POST", f"/api/jobs/{bad}/retry", {}),
        ("GET", f"/api/programmes/{bad}", {}),
        ("PUT", f"/api/programmes/{bad}", {"json": {"name": "x", "items": [{"exercise": "squat", "reps": 5}]}}),
        ("DELETE", f"/api/programmes/{bad}", {}),
        ("GET", f"/api/exercises/squat/versions/{bad}", {}),
        ("POST", "/api/uploads", {"data": {"exercise": "squat", "patient_id": str(bad)},
                                  "files": {"file": ("a.mp4", b"\0" * 100, "video/mp4")}}),
        ("POST", "/api/uploads", {"data": {"patient_id": str(pid), "programme_id": str(bad)},
                                  "files": {"file": ("a.mp4", b"\0" * 100, "video/mp4")}}),
    ]


def test_ids_out_of_range_are_4xx_never_500(api):
    client, therapist, _, pid, _, prog = api
    for bad in HUGE_IDS:
        for method, path, kwargs in id_requests(bad, pid, prog):
            r = client.request(method, path, headers=therapist, **kwargs)
            assert 400 <= r.status_code < 500, f"{method} {path}: {r.status_code} {r.text[:200]}"
            if r.status_code == 422:
                assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/sessions?patient_id={pid}", headers=therapist).status_code == 200  # still fine


def text_requests(bad: str, pid: int, sid: int) -> list[tuple[str, str, dict]]:
    """(method, path, request keywords) with ``bad`` in every text input."""
    patient = {"username": "newpat", "password": PASSWORD, "display_name": "New"}
    programme = {"name": "p", "description": "", "items": [{"exercise": "squat", "reps": 5}]}
    yaml_spec = f"id: my_squat\nname: Squat{bad}\n".encode("utf-8", "surrogatepass")
    return [
        ("POST", "/api/auth/token", {"data": {"username": f"thera{bad}", "password": PASSWORD}}),
        ("POST", "/api/auth/token", {"data": {"username": "thera", "password": f"{PASSWORD}{bad}"}}),
        ("POST", "/api/patients", {"json": {**patient, "username": f"new{bad}pat"}}),
        ("POST", "/api/patients", {"json": {**patient, "password": f"{PASSWORD}{bad}"}}),
        ("POST", "/api/patients", {"json": {**patient, "display_name": f"New{bad}"}}),
        ("PATCH", f"/api/patients/{pid}", {"json": {"display_name": f"Pat{bad}"}}),
        ("POST", f"/api/sessions/{sid}/notes", {"json": {"text": f"a note{bad}"}}),
        ("POST", f"/api/sessions/{sid}/pain", {"json": {"rating": 3, "location": f"back{bad}"}}),
        ("POST", f"/api/sessions/{sid}/pain", {"json": {"rating": 3, "note": f"sharp{bad}"}}),
        ("POST", "/api/programmes", {"json": {**programme, "name": f"p{bad}"}}),
        ("POST", "/api/programmes", {"json": {**programme, "description": f"d{bad}"}}),
        ("POST", "/api/programmes", {"json": {**programme, "items": [{"exercise": f"squat{bad}", "reps": 5}]}}),
        ("PUT", "/api/exercises/my_squat", {"content": yaml_spec, "headers": {"content-type": "application/yaml"}}),
        ("PUT", "/api/exercises/my_squat", {"json": {"id": "my_squat", "name": f"Squat{bad}"}}),
        ("POST", "/api/uploads", {"data": {"exercise": f"squat{bad}", "patient_id": str(pid)},
                                  "files": {"file": ("a.mp4", SAMPLE.read_bytes(), "video/mp4")}}),
    ]


def test_control_characters_in_text_are_refused_with_a_reason(api):
    client, therapist, _, pid, sid, _ = api
    chars = ("\x00", "\x1b", "\x7f", "\ud800")
    cases = [(char, *request) for char in chars for request in text_requests(char, pid, sid)]
    for bad, method, path, kwargs in cases:
        headers = {**therapist, **kwargs.pop("headers", {})}
        if bad == "\ud800":  # not encodable as UTF-8 by a client: sent as the JSON escape, as an attacker would
            if "json" not in kwargs:
                continue
            import json

            kwargs = {"content": json.dumps(kwargs["json"]).encode(), "headers": {"content-type": "application/json"}}
            headers.update(kwargs.pop("headers"))
        r = client.request(method, path, headers=headers, **kwargs)
        assert r.status_code == 422, f"{method} {path} {kwargs}: {r.status_code} {r.text[:300]}"
        detail = r.json()["detail"]
        reasons = ("must not contain", "unicode string") if bad == "\ud800" else ("must not contain",)
        assert any(reason in detail for reason in reasons) or ("username" in detail and "pattern" in detail), detail
    detail = client.get(f"/api/sessions/{sid}", headers=therapist).json()
    assert detail["notes"] == [] and len(detail["pain"]) == 1  # nothing stored (the one pain is the session's own)
    assert client.get("/api/patients", headers=therapist).json()[0]["display_name"] == "Pat1"


def test_line_breaks_stay_allowed_in_notes(api):
    client, therapist, _, _, sid, _ = api
    r = client.post(f"/api/sessions/{sid}/notes", headers=therapist, json={"text": "line one\nline two\ttabbed"})
    assert r.status_code == 201 and r.json()["text"] == "line one\nline two\ttabbed"
