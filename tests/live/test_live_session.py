"""The WebSocket session (server/live.py) runs formcheck live's SessionFlow: sets per exercise, rest between
sets (poses are not counted while resting), moving on at the target, pain stop, all recorded in the store.
A protocol test: the pose estimator is scripted with synthetic squats (the real model over the WebSocket is
covered in test_api_live.py and test_server_e2e.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from synthetic_poses import reps_trace, standing

from formcheck.coaching.plan import PlanItem
from formcheck.storage.database import ExerciseSession, Store
from server.services.catalog import exercise_ids
from server.services.live import LiveSession

FPS = 30.0
JPEG = cv2.imencode(".jpg", np.zeros((32, 32, 3), np.uint8))[1].tobytes()


class ScriptedEstimator:
    """Returns the pose of a knee-angle script at the frame's time."""

    def __init__(self, knees: list[float]):
        self.knees = knees

    def detect_for_video(self, image, t: float):
        i = min(int(round(t * FPS)), len(self.knees) - 1)
        return standing(t, self.knees[i])


@pytest.fixture
def store(tmp_path):
    if "squat" not in exercise_ids():
        pytest.skip("the exercise catalog is not installed")
    s = Store(f"sqlite:///{tmp_path / 'live.db'}")
    yield s
    s.close()


def run_frames(session: LiveSession, n: int, start: int) -> list[dict]:
    out = []
    for i in range(start, start + n):
        session.client_t = i / FPS
        out += session.frame(JPEG)
    return out


def test_sets_rest_and_target_like_formcheck_live(store):
    first = reps_trace(175, 80, 2)
    rest = reps_trace(175, 80, 1, lead_s=0.5)[: int(4 * FPS)]  # a squat during the rest is not counted
    rest += [175.0] * (int(4 * FPS) - len(rest))
    second = reps_trace(175, 80, 2)
    knees = first + rest + second + [175.0] * int(2 * FPS)
    plan = [PlanItem("squat", "Squat", sets=2, reps=2, rest_s=3.0)]
    session = LiveSession(store, ScriptedEstimator(knees), plan, None, "Squat")
    session.start()
    assert session.hello()["items"][0]["sets"] == 2
    messages = run_frames(session, len(knees), 0)
    frames = [m for m in messages if m["type"] == "frame"]
    assert len(frames) == len(knees)
    reps = [e for m in frames for e in m["events"] if e["type"] == "rep"]
    assert len(reps) == 4
    resting = [m for m in frames if m["snapshot"]["phase"] == "rest"]
    assert resting and resting[0]["snapshot"]["message"].startswith("Rest 3 s. Next: Squat, set 2 of 2")
    rest_t = [m["t"] for m in resting]
    assert max(rest_t) - min(rest_t) == pytest.approx(3.0, abs=0.1)
    assert [e["type"] for e in resting[0]["events"]] == ["rep"]  # the rep that reached the target
    assert not any(e["type"] == "rep" for m in resting[1:] for e in m["events"])
    sets = [m for m in messages if m["type"] == "set"]
    assert [(s["done"], s.get("set_index")) for s in sets] == [(False, 2), (True, None)]
    assert frames[-1]["snapshot"]["state"] == "done"
    report = session.finish()
    assert report["rep_count"] == 4 and report["summary"]["exercises"][0]["sets_done"] == 2
    with store.session() as db:
        row = db.get(ExerciseSession, session.session_id)
        assert [(s.set_index, s.status) for s in row.sets] == [(1, "done"), (2, "done")]
        assert [sum(r.set_id == s.id for r in row.reps) for s in row.sets] == [2, 2]


def test_pain_stop_ends_the_set_and_is_recorded(store):
    knees = reps_trace(175, 80, 3)
    plan = [PlanItem("squat", "Squat", sets=1, reps=10), PlanItem("squat", "Squat", sets=1, reps=10)]
    session = LiveSession(store, ScriptedEstimator(knees), plan, None, "Squats")
    session.start()
    run_frames(session, int(4.5 * FPS), 0)  # one squat done
    (reply,) = session.pain(4, "lower back", "sharp")
    assert reply["event"]["rating"] == 4 and "clinician" in reply["advice"]
    later = run_frames(session, len(knees) - int(4.5 * FPS), int(4.5 * FPS))
    assert not any(e["type"] == "rep" for m in later for e in m.get("events", []))  # stopped: no more counting
    assert session.next() == [{"type": "set", "done": True, "events": []}]
    report = session.finish()
    assert report["summary"]["ended_by"] == "pain" and report["rep_count"] == 1
    with store.session() as db:
        row = db.get(ExerciseSession, session.session_id)
        assert [s.status for s in row.sets] == ["stopped"]
        assert [(p.rating, p.location, p.note) for p in row.pain_reports] == [(4, "lower back", "sharp")]
