"""The catalog through the API: built-in, folder and database specs; therapists store new versions of a spec
(validated like a file), the newest is used everywhere, older ones stay readable; patients may only read."""

from __future__ import annotations

import json

import pytest
import yaml
from apiutil import SAMPLE, add_user, api_client, create_patient, login, make_settings
from sqlalchemy import select

from formcheck.engine.catalog import current_catalog
from formcheck.engine.spec import CATALOG_DIR
from formcheck.storage.database import Job

SQUAT = yaml.safe_load((CATALOG_DIR / "squat.yaml").read_text())
BIRD_DOG_TEXT = (CATALOG_DIR / "bird_dog.yaml").read_text()


@pytest.fixture
def api(tmp_path, monkeypatch):
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / "folder_squat.yaml").write_text(yaml.safe_dump({**SQUAT, "id": "folder_squat", "name": "Folder squat"}))
    monkeypatch.setenv("FORMCHECK_EXERCISE_DIR", str(clinic))
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        create_patient(client, therapist, "patient1")
        yield client, therapist, login(client, "patient1")


def put_json(client, headers, exercise: str, spec: dict):
    return client.put(f"/api/exercises/{exercise}", content=json.dumps(spec),
                      headers={**headers, "Content-Type": "application/json"})


def test_the_list_says_where_each_spec_comes_from(api):
    client, therapist, _ = api
    listing = {e["id"]: e for e in client.get("/api/exercises", headers=therapist).json()}
    assert listing["squat"]["source"] == "builtin" and listing["folder_squat"]["source"] == "folder"
    assert listing["folder_squat"]["name"] == "Folder squat" and listing["squat"]["instructions"]
    detail = client.get("/api/exercises/folder_squat", headers=therapist).json()
    assert detail["origin"].endswith("folder_squat.yaml") and detail["spec"]["rep"]["signal"] == SQUAT["rep"]["signal"]


def test_a_therapist_stores_versions_and_the_newest_wins(api):
    client, therapist, patient = api
    first = put_json(client, therapist, "deep_squat", {**SQUAT, "id": "deep_squat", "name": "Deep squat"})
    assert first.status_code == 200, first.text
    assert (first.json()["source"], first.json()["version"]) == ("database", 1)
    spec = {k: v for k, v in SQUAT.items() if k != "id"}  # the id may be left to the URL
    second = put_json(client, therapist, "deep_squat", {**spec, "name": "Deeper squat"})
    assert second.json()["version"] == 2 and second.json()["name"] == "Deeper squat"
    assert client.get("/api/exercises/deep_squat", headers=patient).json()["name"] == "Deeper squat"
    versions = client.get("/api/exercises/deep_squat/versions", headers=patient).json()
    assert [(v["version"], v["spec"]["name"], v["author"]) for v in versions] == [
        (1, "Deep squat", "thera"), (2, "Deeper squat", "thera")]
    old = client.get("/api/exercises/deep_squat/versions/1", headers=therapist).json()
    assert old["spec"]["name"] == "Deep squat"
    assert client.get("/api/exercises/deep_squat/versions/3", headers=therapist).status_code == 404


def test_a_spec_can_be_sent_as_yaml_text(api):
    client, therapist, _ = api
    text = BIRD_DOG_TEXT.replace("id: bird_dog", "id: clinic_bird_dog")
    r = client.put("/api/exercises/clinic_bird_dog", content=text,
                   headers={**therapist, "Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == yaml.safe_load(BIRD_DOG_TEXT)["kind"]


def test_a_database_spec_overrides_the_builtin(api):
    client, therapist, _ = api
    r = put_json(client, therapist, "squat", {**SQUAT, "targets": {**SQUAT["targets"], "reps": 15}})
    assert r.status_code == 200
    squat = next(e for e in client.get("/api/exercises", headers=therapist).json() if e["id"] == "squat")
    assert squat["source"] == "database" and squat["targets"]["reps"] == 15
    assert client.get("/api/exercises/squat/versions", headers=therapist).json()[0]["version"] == 1


def test_patients_may_not_edit(api):
    client, _, patient = api
    r = put_json(client, patient, "deep_squat", {**SQUAT, "id": "deep_squat"})
    assert r.status_code == 403
    assert "deep_squat" not in current_catalog().ids()


INVALID = [
    ("broken", {"id": "broken", "name": "Broken", "kind": "reps"}, "required field is missing"),
    ("typo", {**SQUAT, "id": "typo", "levle": "initial"}, "levle: unknown field"),
    ("mismatch", {**SQUAT, "id": "other"}, "differs from the exercise 'mismatch'"),
    ("auto", {**SQUAT, "id": "auto"}, "cannot be an exercise id"),
    ("listed", ["not", "a", "mapping"], "must be a mapping of fields"),
]


def test_an_invalid_spec_is_a_422_with_the_reason_and_is_not_stored(api):
    client, therapist, _ = api
    for exercise, body, message in INVALID:
        r = put_json(client, therapist, exercise, body)
        assert r.status_code == 422 and message in r.json()["detail"], (exercise, r.text)
        assert client.get(f"/api/exercises/{exercise}/versions", headers=therapist).status_code == 404


def test_unreadable_yaml_is_a_422(api):
    client, therapist, _ = api
    r = client.put("/api/exercises/bad", content="id: [unclosed", headers={**therapist, "Content-Type": "text/plain"})
    assert r.status_code == 422 and "cannot be read as JSON or YAML" in r.json()["detail"]


def test_ids_are_checked_never_paths(api):
    client, therapist, _ = api
    for path in ("/api/exercises/Squat", "/api/exercises/..%2Fetc", "/api/exercises/a.yaml"):
        assert client.get(path, headers=therapist).status_code in (404, 422), path
        assert client.put(path, content=json.dumps(SQUAT), headers=therapist).status_code in (404, 405, 422), path


def test_unknown_exercise_is_404(api):
    client, therapist, _ = api
    assert client.get("/api/exercises/no_such_thing", headers=therapist).status_code == 404
    assert client.get("/api/exercises/no_such_thing/versions", headers=therapist).status_code == 404


def test_uploads_and_programmes_accept_folder_and_database_specs(api):
    client, therapist, patient = api
    assert put_json(client, therapist, "deep_squat", {**SQUAT, "id": "deep_squat"}).status_code == 200
    for exercise in ("deep_squat", "folder_squat"):
        with open(SAMPLE, "rb") as f:
            r = client.post("/api/uploads", data={"exercise": exercise}, files={"file": ("squat.mp4", f)},
                            headers=patient)
        assert r.status_code == 202, r.text
        with client.app.state.store.session() as db:
            assert db.scalars(select(Job.exercise).where(Job.id == r.json()["job_id"])).one() == exercise
    programme = {"name": "Clinic squats", "items": [{"exercise": "deep_squat", "reps": 8},
                                                    {"exercise": "folder_squat", "reps": 5}]}
    assert client.post("/api/programmes", json=programme, headers=therapist).status_code == 201


def test_the_catalog_goes_back_to_the_default_when_the_server_stops(tmp_path, monkeypatch):
    monkeypatch.delenv("FORMCHECK_EXERCISE_DIR", raising=False)
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        assert put_json(client, login(client, "thera"), "deep_squat", {**SQUAT, "id": "deep_squat"}).status_code == 200
        assert "deep_squat" in current_catalog().ids()
    assert "deep_squat" not in current_catalog().ids()
