"""Cross-site requests: another site's page cannot make a logged-in browser change anything with its cookie."""

from __future__ import annotations

import pytest
from apiutil import PASSWORD, SAMPLE, add_user, api_client, create_patient, login, make_settings

from server.core.origin import origin_allowed
from server.core.settings import Settings

EVIL = {"Origin": "http://evil.example"}


@pytest.fixture
def api(tmp_path):
    """(client with the therapist's login cookie, bearer headers, patient id, job id)."""
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        bearer = login(client, "thera")  # (clears the cookie)
        pid = create_patient(client, bearer, "pat1")
        r = client.post("/api/uploads", headers=bearer, data={"exercise": "squat", "patient_id": str(pid)},
                        files={"file": ("clip.mp4", SAMPLE.read_bytes(), "video/mp4")})
        assert r.status_code == 202, r.text
        assert client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD}).status_code == 200
        yield client, bearer, pid, r.json()["job_id"]


def changes(pid: int, job_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("POST", "/api/uploads", {"data": {"exercise": "squat", "patient_id": str(pid)},
                                  "files": {"file": ("clip.mp4", SAMPLE.read_bytes(), "video/mp4")}}),
        ("POST", f"/api/jobs/{job_id}/cancel", {}),
        ("PATCH", f"/api/patients/{pid}", {"json": {"display_name": "Hacked"}}),
        ("POST", "/api/programmes", {"json": {"name": "x", "items": [{"exercise": "squat", "reps": 5}]}}),
        ("POST", "/logout", {}),
    ]


FOREIGN = [EVIL, {"Referer": "http://evil.example/page"}, {"Origin": "null"}, {"Origin": "http://testserver.evil.example"}]


def test_cookie_changes_from_another_site_are_refused(api):
    client, _, pid, job_id = api
    for claimed in FOREIGN:
        for method, path, kwargs in changes(pid, job_id):
            r = client.request(method, path, headers=claimed, follow_redirects=False, **kwargs)
            assert r.status_code == 403, f"{claimed} {method} {path}: {r.status_code}"
            assert r.json()["title"] == "Cross-site request refused" and "another site" in r.json()["detail"]
    assert client.get(f"/api/patients/{pid}").json()["display_name"] == "Pat1"
    assert client.app.state.jobs.cancelled == []
    assert len(client.app.state.jobs.submitted) == 1


def test_the_servers_own_pages_and_non_browser_clients_pass(api):
    client, bearer, pid, job_id = api
    own = {"Origin": "http://testserver"}
    assert client.patch(f"/api/patients/{pid}", headers=own, json={"display_name": "A"}).status_code == 200
    assert client.patch(f"/api/patients/{pid}", headers={"Referer": "http://testserver/therapist"},
                        json={"display_name": "B"}).status_code == 200
    assert client.patch(f"/api/patients/{pid}", json={"display_name": "C"}).status_code == 200  # no header: curl
    client.cookies.clear()
    r = client.post(f"/api/jobs/{job_id}/cancel", headers={**bearer, **EVIL})  # a bearer token cannot be forged
    assert r.status_code == 200 and client.app.state.jobs.cancelled == [job_id]


def test_logging_in_from_another_site_is_refused(api):
    client, *_ = api
    r = client.post("/api/auth/token", headers=EVIL, data={"username": "thera", "password": PASSWORD})
    assert r.status_code == 403


def test_origin_allowed_rules():
    settings = Settings(allowed_origins=["https://clinic.example"])
    host = {"host": "127.0.0.1:8000"}
    assert origin_allowed(host, settings)
    assert origin_allowed({**host, "origin": "http://127.0.0.1:8000"}, settings)
    assert origin_allowed({**host, "origin": "https://clinic.example"}, settings)
    assert origin_allowed({**host, "origin": "https://clinic.example:443"}, settings)
    assert not origin_allowed({**host, "origin": "http://127.0.0.1:8001"}, settings)
    assert not origin_allowed({**host, "origin": "http://evil.example"}, settings)
    assert not origin_allowed({**host, "origin": "null"}, settings)
    assert not origin_allowed({**host, "origin": "javascript:alert(1)"}, settings)
    assert not origin_allowed({**host, "referer": "http://evil.example/x"}, settings)
    assert not origin_allowed({"origin": "http://127.0.0.1:8000"}, Settings())  # no Host: nothing to match
