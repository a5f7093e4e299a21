"""The live WebSocket's protocol: auth, bad requests, programme flow (pain, next, stop), recording.
(Frames through the real model are covered end to end in test_server_e2e.py.)"""

from __future__ import annotations

import pytest
from apiutil import SAMPLE, add_user, api_client, create_patient, login, make_settings

from formcheck.pose.models import ModelError, check_model
from server.services.catalog import exercise_ids


@pytest.fixture
def api(tmp_path):
    try:
        check_model("full")
    except ModelError as exc:
        pytest.skip(f"pose model not built: {exc}")
    if not exercise_ids():
        pytest.skip("the exercise catalog is not installed yet")
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        create_patient(client, login(client, "thera"), "pat1")
        yield client, login(client, "pat1")["Authorization"].split()[1]


def first_message(client, query: str) -> dict:
    with client.websocket_connect(f"/api/live?{query}") as ws:
        return ws.receive_json()


def test_refuses_missing_or_bad_token(api):
    client, _ = api
    client.cookies.clear()
    assert first_message(client, "exercise=squat") == {
        "type": "error",
        "title": "Not authenticated",
        "detail": "Log in first (no token was sent).",
        "status": 401,
    }
    assert first_message(client, "exercise=squat&token=abc")["status"] == 401


def test_unknown_exercise_or_programme(api):
    client, token = api
    msg = first_message(client, f"exercise=../../etc/passwd&token={token}")
    assert msg["status"] == 422 and msg["title"] == "Unknown exercise"
    msg = first_message(client, f"programme=/etc/passwd&token={token}")
    assert msg["status"] == 404 and "initial" in msg["detail"]
    assert first_message(client, f"token={token}")["status"] == 422


def test_garbage_messages_get_an_error_and_the_session_goes_on(api):
    client, token = api
    with client.websocket_connect(f"/api/live?exercise=squat&token={token}") as ws:
        assert ws.receive_json()["type"] == "session"
        for garbage in (b"", b"\x00\x01not a jpeg", b"\xff\xd8\xff\xe0 broken jpeg"):
            ws.send_bytes(garbage)
            assert ws.receive_json()["title"] == "Bad frame"
        for text in ("not json", "[1, 2]", '{"type": "pain", "rating": "ten"}'):
            ws.send_text(text)
            assert ws.receive_json()["type"] == "error"
        ws.send_text('{"type": "stop"}')
        assert ws.receive_json()["type"] == "summary"


def test_oversized_frame_is_refused_without_decoding_it(api):
    import cv2
    import numpy as np

    client, token = api
    huge = cv2.imencode(".jpg", np.zeros((8, 4000, 3), np.uint8))[1].tobytes()  # tiny on the wire, 4000 px wide
    with client.websocket_connect(f"/api/live?exercise=squat&token={token}") as ws:
        assert ws.receive_json()["type"] == "session"
        ws.send_bytes(huge)
        msg = ws.receive_json()
        assert msg["title"] == "Frame too large" and msg["status"] == 413 and "4000x8" in msg["detail"]
        ws.send_text('{"type": "stop"}')
        assert ws.receive_json()["type"] == "summary"


def test_programme_flow_records_sets_pain_and_summary(api):
    client, token = api
    import cv2

    ok, image = cv2.VideoCapture(str(SAMPLE)).read()
    jpeg = cv2.imencode(".jpg", cv2.resize(image, (180, 320)))[1].tobytes()
    with client.websocket_connect(f"/api/live?programme=initial&token={token}") as ws:
        start = ws.receive_json()
        assert start["type"] == "session" and len(start["items"]) >= 2
        ws.send_json({"type": "frame_time", "t": 0.5})
        ws.send_bytes(jpeg)
        frame = ws.receive_json()
        assert frame["type"] == "frame" and frame["t"] == 0.5 and "snapshot" in frame
        ws.send_bytes(b"not a jpeg")
        assert ws.receive_json()["title"] == "Bad frame"
        ws.send_text("not json")
        assert ws.receive_json()["title"] == "Bad message"
        ws.send_json({"type": "pain", "rating": 11})
        assert ws.receive_json()["title"] == "Bad pain rating"
        ws.send_json({"type": "next"})
        step = ws.receive_json()
        assert step["type"] == "set" and not step["done"] and step["exercise"] == start["items"][1]["exercise"]
        ws.send_json({"type": "pain", "rating": 6, "location": "lower back"})  # a pain stop, as in formcheck live
        pain = ws.receive_json()
        assert pain["type"] == "pain" and "clinician" in pain["advice"]
        ws.send_json({"type": "next"})
        assert ws.receive_json() == {"type": "set", "done": True, "events": []}  # nothing more after a pain stop
        ws.send_bytes(jpeg)
        assert ws.receive_json()["snapshot"]["state"] == "pain"
        ws.send_json({"type": "stop"})
        summary = ws.receive_json()
        assert summary["type"] == "summary" and summary["report"]["frames"] == 2
        assert [p["rating"] for p in summary["report"]["pain"]] == [6]
        assert summary["report"]["summary"]["ended_by"] == "pain"
    session = client.get(f"/api/sessions/{start['session_id']}", headers={"Authorization": f"Bearer {token}"}).json()
    assert session["kind"] == "live" and session["programme"] == "initial" and session["status"] == "completed"
    assert [s["status"] for s in session["sets"]] == ["skipped", "stopped"]
    assert [p["location"] for p in session["pain"]] == ["lower back"]


def test_inbox_keeps_order_but_replaces_a_waiting_frame_with_a_newer_one():
    import asyncio

    from server.api.routes.live import Inbox

    async def scenario():
        inbox = Inbox()
        inbox.put(("frame", b"1", 0.0))
        inbox.put(("frame", b"2", 0.1))  # the server is behind: frame 1 is dropped
        inbox.put(("pain", 3, "", ""))
        inbox.put(("frame", b"3", 0.2))
        inbox.close()
        got = []
        while (item := await inbox.get()) is not None:
            got.append(item[:2])
        return got, inbox.dropped

    got, dropped = asyncio.run(scenario())
    assert got == [("frame", b"2"), ("pain", 3), ("frame", b"3")] and dropped == 1
