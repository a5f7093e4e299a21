"""One result reaches every view: the storage API stores an ``AnalysisResult`` once (events as rows) and loads it
back; the API's session detail, CSV and the web page's data are views of it, with typed response models."""

from __future__ import annotations

import csv
import io

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings
from synthetic_poses import reps_trace, standing

from formcheck.core.events import FormWarning, HoldCompleted, RepCompleted
from formcheck.core.result import AnalysisResult, Recognition
from formcheck.engine import create_analyzer
from formcheck.pipeline.loop import replay
from formcheck.storage.database import ExerciseSession, Job, SessionRecorder, Store

FPS = 30.0


def squat_result(reps: int = 3) -> AnalysisResult:
    """A real analysis (the squat analyzer on a synthetic pose stream), with the recognition of a given id."""
    poses = [standing(i / FPS, k) for i, k in enumerate(reps_trace(175, 80, reps))]
    return replay(poses, create_analyzer("squat"), model="lite", source="synthetic.mp4")


@pytest.fixture
def api(tmp_path):
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        t1 = login(client, "thera")
        pid = create_patient(client, t1, "pat1")
        yield client, t1, pid


def _row(store: Store, sid: int) -> ExerciseSession:
    with store.session() as db:
        return db.get(ExerciseSession, sid)


def test_a_saved_result_loads_back_the_same(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = squat_result()
    assert result.rep_count == 3 and result.series["squat"]["t"]
    # the session keeps the name the video was uploaded under (the result's source is the server's file)
    sid = store.start_session(kind="upload", title="Squat", status="running", source="synthetic.mp4")
    store.save_result(sid, result, targets={"squat": (10, None)})
    loaded = store.load_result(sid)
    assert loaded.to_dict() == result.to_dict()
    row = _row(store, sid)
    assert row.status == "completed" and row.frames == result.frames
    # a repetition is stored once: as a row, not also in the report column
    assert not {"reps", "holds", "warnings", "pain", "series"} & set(row.report)
    # a resumed job stores its result again: still once
    store.save_result(sid, result)
    assert len(store.load_result(sid).reps) == 3
    store.close()


def test_api_detail_is_the_result_plus_session_metadata(api):
    client, t1, pid = api
    store: Store = client.app.state.store
    result = squat_result()
    result.recognition = Recognition("squat", 0.87, "recognised", (("squat", 0.87), ("lunge", 0.4)))
    sid = store.start_session(kind="upload", title="Squat", patient_id=pid, status="running")
    store.save_result(sid, result, targets={"squat": (3, None)})
    d = client.get(f"/api/sessions/{sid}", headers=t1).json()
    expected = result.to_dict()
    assert set(expected) <= set(d)
    for key in ("reps", "holds", "warnings", "pain", "series", "summary", "recognition", "rep_count", "frames"):
        assert d[key] == expected[key], key
    assert d["recognition"]["confidence"] == 0.87 and d["recognition"]["method"] == "recognised"
    assert d["sets"][0]["exercise"] == "squat" and d["sets"][0]["reps_done"] == 3 and d["sets"][0]["target_reps"] == 3
    assert all(r["start_s"] == round(r["start_s"], 3) for r in d["reps"])  # milliseconds
    # CSV and the JSON export are views of the same detail
    exported = client.get(f"/api/sessions/{sid}/export.json", headers=t1).json()
    assert exported["reps"] == d["reps"] and exported["series"] == d["series"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/sessions/{sid}/export.csv", headers=t1).text)))
    assert [float(r["start_s"]) for r in rows if r["type"] == "rep"] == [r["start_s"] for r in d["reps"]]
    # the list shows the same totals
    listed = next(s for s in client.get("/api/sessions", headers=t1).json() if s["id"] == sid)
    assert listed["rep_count"] == 3 and listed["avg_score"] == d["summary"]["avg_score"]


def test_the_job_says_which_exercise_was_recognised_and_how_sure(api):
    client, t1, pid = api
    store: Store = client.app.state.store
    sid = store.start_session(kind="upload", title="Recognising the exercise", patient_id=pid, status="running")
    with store.session() as db, db.begin():
        job = Job(session_id=sid, upload_file="x.mp4", exercise="auto", status="running")
        db.add(job)
        db.flush()
        job_id = job.id
    assert client.get(f"/api/jobs/{job_id}", headers=t1).json()["recognition"] is None
    result = squat_result(2)
    result.recognition = Recognition("squat", 0.9, "recognised")
    with store.session() as db, db.begin():
        db.get(Job, job_id).status = "done"
    store.save_result(sid, result)
    rec = client.get(f"/api/jobs/{job_id}", headers=t1).json()["recognition"]
    assert rec["exercise"] == "squat" and rec["confidence"] == 0.9 and rec["method"] == "recognised"


def test_a_two_exercise_live_session_keeps_both_series(api):
    """Recorded as live coaching does (sets, events as they happen, series per exercise): both exercises'
    curves and their reps, tagged, reach the session detail the web page draws from."""
    client, t1, pid = api
    store: Store = client.app.state.store
    sid = store.start_session(kind="live", title="initial", programme="initial", patient_id=pid)
    recorder = SessionRecorder(store, sid)
    live = AnalysisResult(exercise="initial")
    for exercise, t0 in (("squat", 0.0), ("glute_bridge", 10.0)):
        recorder.start_set(exercise, 1, 2, None, t0)
        events = [RepCompleted(t0 + 2 * i + 2, i + 1, t0 + 2 * i, t0 + 2 * i + 2, 80.0, 2.0, 90.0) for i in range(2)]
        events.append(FormWarning(t0 + 1, "knees_in", "push your knees out"))
        recorder.record(events)
        live.add_all(events, exercise)
        live.series[exercise] = {"t": [t0, t0 + 1], "knee": [170.0, 90.0], "target_band": {"knee": [80, 100]}}
        recorder.end_set(t0 + 5)
    recorder.record([HoldCompleted(19.0, 15.0, 19.0, 4.0, 5.0)])
    recorder.close()
    report = live.to_dict()
    report["summary"] = {"exercises": [{"name": "Squat", "reps": 2}], "ended_by": "completed"}  # live tallies
    store.finish_session(sid, result=report)
    d = client.get(f"/api/sessions/{sid}", headers=t1).json()
    assert set(d["series"]) == {"squat", "glute_bridge"}
    assert d["series"]["glute_bridge"]["knee"] == [170.0, 90.0]
    assert [r["exercise"] for r in d["reps"]] == ["squat", "squat", "glute_bridge", "glute_bridge"]
    assert d["summary"]["by_exercise"]["squat"]["reps"] == 2 and d["summary"]["ended_by"] == "completed"
    assert len(d["warnings"]) == 2 and d["holds"][0]["exercise"] == "glute_bridge"
    assert [s["reps_done"] for s in d["sets"]] == [2, 2]
    row = _row(store, sid)
    assert not {"reps", "holds", "warnings", "pain"} & set(row.report)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"t": [0.0, 1.0], "knee": [170.0, 90.0]}, {"squat": {"t": [0.0, 1.0], "knee": [170.0, 90.0]}}),
        ({"by_exercise": {"squat": {"t": [0.0], "knee": [1.0]}, "plank": {"t": [2.0], "hip": [3.0]}}},
         {"squat": {"t": [0.0], "knee": [1.0]}, "plank": {"t": [2.0], "hip": [3.0]}}),
    ],
    ids=["flat", "by_exercise"],
)
def test_older_series_shapes_are_keyed_by_exercise(tmp_path, stored, expected):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sid = store.start_session(kind="live", title="Squat")
    store.start_set(sid, "squat")
    store.finish_session(sid, report={"duration_s": 2.0, "frames": 60, "frames_with_person": 60}, series=stored)
    assert store.load_result(sid).series == expected
    with store.session() as db, db.begin():  # a row written before the one shape still reads as it
        db.get(ExerciseSession, sid).series = stored
    assert store.load_result(sid).series == expected
    store.close()


def test_a_pain_report_without_a_time_is_at_the_end_of_the_session(api):
    client, t1, pid = api
    store: Store = client.app.state.store
    sid = store.start_session(kind="upload", title="Squat", patient_id=pid, status="running")
    store.save_result(sid, squat_result(2))
    duration = client.get(f"/api/sessions/{sid}", headers=t1).json()["duration_s"]
    r = client.post(f"/api/sessions/{sid}/pain", json={"rating": 3}, headers=t1)
    assert r.status_code == 201 and r.json()["t_s"] == duration
    assert client.get(f"/api/sessions/{sid}", headers=t1).json()["pain"][-1]["rating"] == 3


def test_openapi_has_typed_session_detail(api):
    client, _, _ = api
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    detail = schemas["SessionDetail"]["properties"]
    for key, model in (("reps", "RepOut"), ("holds", "HoldOut"), ("warnings", "WarningOut"), ("pain", "PainOut"),
                       ("sets", "SetOut")):
        assert detail[key]["items"]["$ref"].endswith(model), key
    assert "RecognitionOut" in str(detail["recognition"]) and "RecognitionOut" in str(schemas["JobOut"])
