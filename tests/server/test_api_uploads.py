"""Bad uploads get a JSON problem with the right status, and nothing of them is kept. Real files, made here."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from apiutil import SAMPLE, add_user, api_client, create_patient, login, make_settings
from sqlalchemy import select

from formcheck.storage.database import ExerciseSession, Job
from server.services.catalog import exercise_ids


@pytest.fixture(scope="module")
def exercise():
    ids = exercise_ids()
    if not ids:
        pytest.skip("the exercise catalog (formcheck.engine.list_exercises) is not installed yet")
    return "squat" if "squat" in ids else ids[0]


@pytest.fixture
def api(tmp_path):
    settings = make_settings(tmp_path, max_upload_mb=5, max_video_minutes=1)
    with api_client(settings) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        patient_id = create_patient(client, therapist, "patient1")
        yield client, login(client, "patient1"), patient_id, settings


def write_video(path, frames: int, size=(160, 120), fps=30.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
    writer.release()
    return path


def upload(client, headers, content: bytes, exercise: str, name: str = "clip.mp4", **data):
    return client.post(
        "/api/uploads",
        data={"exercise": exercise, **data},
        files={"file": (name, content, "video/mp4")},
        headers=headers,
    )


def assert_nothing_kept(client, settings):
    assert not list(settings.upload_dir.glob("*")), "a rejected upload was left on disk"
    with client.app.state.store.session() as db:
        assert db.scalars(select(Job)).first() is None
        assert db.scalars(select(ExerciseSession)).first() is None


def test_valid_upload_is_accepted_under_a_server_made_name(api, exercise):
    client, headers, patient_id, settings = api
    r = upload(client, headers, SAMPLE.read_bytes(), exercise, name="../../etc/passwd.mp4")
    assert r.status_code == 202, r.text
    body = r.json()
    assert client.app.state.jobs.submitted == [body["job_id"]]
    stored = list(settings.upload_dir.iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == SAMPLE.read_bytes()
    assert "passwd" not in stored[0].name and stored[0].parent == settings.upload_dir
    job = client.get(f"/api/jobs/{body['job_id']}", headers=headers).json()
    assert job["status"] == "queued" and job["session_id"] == body["session_id"]
    session = client.get(f"/api/sessions/{body['session_id']}", headers=headers).json()
    assert session["patient_id"] == patient_id and session["status"] == "queued" and session["kind"] == "upload"


def test_not_a_video(api, exercise, tmp_path):
    client, headers, _, settings = api
    r = upload(client, headers, b"this is a text file pretending to be a video\n" * 100, exercise)
    assert r.status_code == 415 and r.json()["title"] == "Not a video"
    png = cv2.imencode(".png", np.zeros((50, 50, 3), np.uint8))[1].tobytes()
    r = upload(client, headers, png, exercise, name="photo.mp4")
    assert r.status_code in (415, 422), r.text  # an image is not a video (or a 1-frame one: too short)
    assert_nothing_kept(client, settings)


def test_truncated_video(api, exercise):
    client, headers, _, settings = api
    data = SAMPLE.read_bytes()
    r = upload(client, headers, data[: len(data) // 2], exercise)
    assert r.status_code == 422
    assert r.json()["title"] == "Damaged video" and "truncated" in r.json()["detail"]
    assert_nothing_kept(client, settings)


def test_too_large(api, exercise):
    client, headers, _, settings = api
    big = SAMPLE.read_bytes() * 3  # 7.5 MB > 5 MB limit
    r = upload(client, headers, big, exercise)
    assert r.status_code == 413 and "5 MB" in r.json()["detail"]
    assert_nothing_kept(client, settings)


def test_too_long(api, exercise, tmp_path):
    client, headers, _, settings = api
    long_clip = write_video(tmp_path / "long.mp4", frames=30 * 65, size=(32, 32))  # 65 s > 1 minute
    r = upload(client, headers, long_clip.read_bytes(), exercise)
    assert r.status_code == 413 and r.json()["title"] == "Video too long"
    assert_nothing_kept(client, settings)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_a_picture_is_not_a_video(api, exercise, tmp_path, ext):
    client, headers, _, settings = api
    ok, encoded = cv2.imencode(ext, np.full((48, 64, 3), 90, np.uint8))
    r = upload(client, headers, encoded.tobytes(), exercise, name="clip.mp4")
    assert r.status_code == 415 and "picture, not a video" in r.json()["detail"]
    assert_nothing_kept(client, settings)


def test_a_header_claiming_millions_of_frames_is_damaged_not_too_long(api, exercise, tmp_path):
    import struct

    client, headers, _, settings = api
    clip = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(30):
        writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    writer.release()
    data = bytearray(clip.read_bytes())
    struct.pack_into("<I", data, data.find(b"avih") + 8 + 16, 2_000_000_000)  # dwTotalFrames
    struct.pack_into("<I", data, data.find(b"strh") + 8 + 32, 2_000_000_000)  # dwLength
    r = upload(client, headers, bytes(data), exercise, name="short.avi")
    assert r.status_code == 422, r.text
    assert r.json()["title"] == "Damaged video" and "header" in r.json()["detail"]
    assert_nothing_kept(client, settings)


@pytest.mark.parametrize("frames", [0, 1])
def test_zero_or_one_frame(api, exercise, tmp_path, frames):
    client, headers, _, settings = api
    clip = write_video(tmp_path / f"f{frames}.mp4", frames=frames)
    r = upload(client, headers, clip.read_bytes(), exercise)
    assert r.status_code == 422, r.text
    assert r.json()["title"] in ("Damaged video", "Empty video", "Video too short")
    assert_nothing_kept(client, settings)


def test_empty_file(api, exercise):
    client, headers, _, settings = api
    r = upload(client, headers, b"", exercise)
    assert r.status_code == 422 and r.json()["detail"]
    assert_nothing_kept(client, settings)


def test_unknown_exercise_lists_the_catalog(api, exercise):
    client, headers, _, settings = api
    r = upload(client, headers, SAMPLE.read_bytes(), "../../formcheck/exercises/squat.yaml")
    assert r.status_code == 422 and r.json()["title"] == "Unknown exercise"
    assert exercise in r.json()["detail"]
    assert_nothing_kept(client, settings)


def test_therapist_must_name_the_patient(api, exercise):
    client, _, patient_id, settings = api
    therapist = login(client, "thera")
    r = upload(client, therapist, SAMPLE.read_bytes(), exercise)
    assert r.status_code == 422 and "patient" in r.json()["detail"]
    r = upload(client, therapist, SAMPLE.read_bytes(), exercise, patient_id=str(patient_id))
    assert r.status_code == 202


def test_cancel_and_retry_rules(api, exercise):
    client, headers, _, settings = api
    body = upload(client, headers, SAMPLE.read_bytes(), exercise).json()
    r = client.post(f"/api/jobs/{body['job_id']}/retry", headers=headers)
    assert r.status_code == 409  # a queued job cannot be retried
    assert client.post(f"/api/jobs/{body['job_id']}/cancel", headers=headers).status_code == 200
    assert client.app.state.jobs.cancelled == [body["job_id"]]


def test_upload_for_a_programme_recognises_among_its_exercises(api, exercise):
    from server.services.catalog import recognition_available

    client, headers, _, settings = api
    r = upload(client, headers, SAMPLE.read_bytes(), "")
    assert r.status_code == 422 and r.json()["title"] == "Exercise missing"
    r = upload(client, headers, SAMPLE.read_bytes(), "", programme_id="99999")
    assert r.status_code == 404
    progs = client.get("/api/programmes", headers=headers).json()
    advanced = next(p for p in progs if p["name"] == "advanced")
    r = upload(client, headers, SAMPLE.read_bytes(), "", programme_id=str(advanced["id"]))
    if not recognition_available():
        assert r.status_code == 422
        return
    assert r.status_code == 202, r.text
    with client.app.state.store.session() as db:
        job = db.get(Job, r.json()["job_id"])
        assert job.exercise == "auto"
        assert job.options["exercises"] == sorted({i["exercise"] for i in advanced["items"]})
        assert db.get(ExerciseSession, r.json()["session_id"]).programme == "advanced"


def test_another_therapists_programme_cannot_be_used(api, exercise):
    client, headers, _, _ = api
    add_user(client, "other")
    other = login(client, "other")
    r = client.post(
        "/api/programmes", json={"name": "theirs", "items": [{"exercise": exercise, "reps": 5}]}, headers=other
    )
    assert r.status_code == 201
    r = upload(client, headers, SAMPLE.read_bytes(), "", programme_id=str(r.json()["id"]))
    assert r.status_code == 404
