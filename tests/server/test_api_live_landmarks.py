"""The live WebSocket in on-device mode (landmark packets in, no images), and its limits: malformed packets,
floods, non-finite numbers, decompression-bomb headers, connection caps, failures and restarts."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings
from starlette.websockets import WebSocketDisconnect
from synthetic_poses import reps_trace, standing

from formcheck.engine import create_analyzer
from formcheck.pipeline.loop import FrameLoop
from formcheck.pose.smoothing import PoseSmoother
from server.services.catalog import exercise_ids
from server.services.live_messages import EMPTY_PACKET_BYTES, PACKET_BYTES, encode_landmarks


def squats(n: int = 3, fps: float = 30.0):
    return [standing(i / fps, knee_deg=k) for i, k in enumerate(reps_trace(175, 95, n, fps=fps))]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    if not exercise_ids():
        pytest.skip("the exercise catalog is not installed yet")
    settings = make_settings(tmp_path_factory.mktemp("live"), live_max_connections_per_user=2, live_max_connections=3,
                             live_max_landmarks_per_s=1000)  # replays below go faster than a camera
    with api_client(settings) as client:
        add_user(client, "thera")
        thera = login(client, "thera")
        create_patient(client, thera, "pat1")
        create_patient(client, thera, "pat2")
        tokens = {u: login(client, u)["Authorization"].split()[1] for u in ("pat1", "pat2")}
        yield client, tokens, thera


def connect(client, token: str, query: str = "exercise=squat&mode=landmarks&model=lite"):
    return client.websocket_connect(f"/api/live?{query}&token={token}")


def send_poses(ws, poses) -> list[dict]:
    replies = []
    for pose in poses:
        ws.send_bytes(encode_landmarks(pose))
        replies.append(ws.receive_json())
    return replies


def test_landmark_packets_count_like_the_same_poses_replayed(live_api):
    client, tokens, thera = live_api
    poses = squats(3)
    with connect(client, tokens["pat1"]) as ws:
        hello = ws.receive_json()
        assert hello["type"] == "session" and hello["mode"] == "landmarks"
        replies = send_poses(ws, poses)
        ws.send_json({"type": "stop"})
        summary = ws.receive_json()
    assert all(r["type"] == "frame" and r["landmarks"] is None for r in replies)
    reps_live = [e for r in replies for e in r["events"] if e["type"] == "rep"]
    loop = FrameLoop(create_analyzer("squat"), smoother=PoseSmoother())
    for pose in poses:
        loop.step(None, pose)
    offline = loop.finish()
    assert len(reps_live) == offline.rep_count == summary["report"]["rep_count"] == 3
    assert summary["received"] == {"image_messages": 0, "landmark_messages": len(poses), "text_messages": 1,
                                   "bytes": len(poses) * PACKET_BYTES + len('{"type":"stop"}')}
    stored = client.get(f"/api/sessions/{hello['session_id']}", headers=thera).json()
    assert stored["rep_count"] == 3 and stored["status"] == "completed" and stored["model"] == "lite"


def test_malformed_landmark_packets_get_an_error_and_the_session_goes_on(live_api):
    client, tokens, _ = live_api
    good = encode_landmarks(squats(1)[0])
    header = struct.Struct("<4sdHHBB")
    nan = bytearray(good)
    nan[38:42] = struct.pack("<f", float("nan"))
    far = bytearray(good)
    far[18:22] = struct.pack("<f", 1e30)
    bad = {
        "short": good[:500],
        "long": good + b"\0" * 4,
        "nan": bytes(nan),
        "out of range": bytes(far),
        "infinite time": header.pack(b"FCL1", float("inf"), 640, 480, 0, 0),
        "huge time": header.pack(b"FCL1", 1e300, 640, 480, 0, 0),
        "nobody but landmarks": header.pack(b"FCL1", 1.0, 640, 480, 0, 0) + good[EMPTY_PACKET_BYTES:],
        "zero size": header.pack(b"FCL1", 1.0, 0, 0, 1, 0) + good[EMPTY_PACKET_BYTES:],
    }
    with connect(client, tokens["pat1"]) as ws:
        ws.receive_json()
        for name, data in bad.items():
            ws.send_bytes(data)
            reply = ws.receive_json()
            assert reply["type"] == "error" and reply["status"] == 422, name
        ws.send_bytes(header.pack(b"FCL1", 2.0, 640, 480, 0, 0))  # nobody in view is fine
        assert ws.receive_json()["type"] == "frame"
        ws.send_json({"type": "stop"})
        summary = ws.receive_json()
    assert summary["type"] == "summary" and summary["report"]["frames"] == 1


def test_images_are_refused_unread_in_landmarks_mode(live_api):
    import cv2

    client, tokens, _ = live_api
    jpeg = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    with connect(client, tokens["pat1"]) as ws:
        ws.receive_json()
        ws.send_bytes(jpeg)
        reply = ws.receive_json()
        assert reply["title"] == "Wrong mode" and "stays on the device" in reply["detail"]
        ws.send_json({"type": "stop"})
        summary = ws.receive_json()
    assert summary["report"]["frames"] == 0 and summary["received"]["image_messages"] == 1


def test_pain_flood_stores_one_report(live_api):
    client, tokens, thera = live_api
    with connect(client, tokens["pat1"]) as ws:
        session_id = ws.receive_json()["session_id"]
        for _ in range(2000):
            ws.send_json({"type": "pain", "rating": 4, "location": "lower back"})
        ws.send_json({"type": "stop"})
        replies = []
        while (msg := ws.receive_json())["type"] != "summary":
            replies.append(msg)
    kinds = [m["type"] if m["type"] != "error" else m["title"] for m in replies]
    assert kinds.count("pain") == 1 and 1 <= kinds.count("Slow down") <= 200  # some replies (5 a second), not 2000
    stored = client.get(f"/api/sessions/{session_id}", headers=thera).json()
    assert len(stored["pain"]) == 1 and stored["status"] == "completed"


@pytest.mark.parametrize("t", ["NaN", "Infinity", "-Infinity", "1e300", '"soon"'])
def test_non_finite_frame_time_is_refused_with_a_message(live_api, t):
    client, tokens, _ = live_api
    with connect(client, tokens["pat1"], "exercise=squat") as ws:
        ws.receive_json()
        ws.send_text('{"type": "frame_time", "t": ' + t + "}")
        reply = ws.receive_json()
        assert reply["title"] == "Bad frame time" and reply["status"] == 422
        ws.send_text('{"type": "pain", "rating": NaN}')
        assert ws.receive_json()["title"] == "Bad pain rating"
        ws.send_json({"type": "stop"})
        assert ws.receive_json()["type"] == "summary"


def test_decompression_bomb_header_is_answered_not_dropped(live_api):
    import cv2

    client, tokens, _ = live_api
    jpeg = bytearray(cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))[1].tobytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 30000, 30000)  # the frame header claims 30000 x 30000
    with connect(client, tokens["pat1"], "exercise=squat") as ws:
        ws.receive_json()
        ws.send_bytes(bytes(jpeg))
        reply = ws.receive_json()
        assert reply["title"] == "Frame too large" and reply["status"] == 413
        ws.send_json({"type": "stop"})
        assert ws.receive_json()["type"] == "summary"


def test_connections_are_capped_per_user_and_in_total(live_api):
    client, tokens, _ = live_api
    with connect(client, tokens["pat1"]) as a, connect(client, tokens["pat1"]) as b:
        assert a.receive_json()["type"] == b.receive_json()["type"] == "session"
        with connect(client, tokens["pat1"]) as c:
            refused = c.receive_json()
            assert refused["status"] == 429 and "already have 2" in refused["detail"]
        with connect(client, tokens["pat2"]) as d:
            assert d.receive_json()["type"] == "session"
            with connect(client, tokens["pat2"]) as e:  # pat2 has one, but the server is full (3)
                full = e.receive_json()
                assert full["status"] == 429 and "most live sessions" in full["detail"]
            d.send_json({"type": "stop"})
            d.receive_json()
        a.send_json({"type": "stop"})
        a.receive_json()
    with connect(client, tokens["pat1"]) as again:  # slots come back when sessions end
        assert again.receive_json()["type"] == "session"


def test_a_foreign_origin_is_refused_at_the_handshake(live_api):
    client, tokens, _ = live_api
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/api/live?exercise=squat&token={tokens['pat1']}",
                                      headers={"Origin": "http://evil.example"}) as ws:
            ws.receive_json()
    assert refused.value.code == 1008


def test_a_failure_inside_the_session_closes_it_as_interrupted(live_api):
    from server.services.live import LiveSession

    client, tokens, thera = live_api
    poses = squats(2)

    def broken(self, pose):
        if pose.timestamp > 3.0:
            raise RuntimeError("engine failure")
        return LiveSession._real_landmarks(self, pose)

    with pytest.MonkeyPatch.context() as patch, connect(client, tokens["pat1"]) as ws:
        patch.setattr(LiveSession, "_real_landmarks", LiveSession.landmarks, raising=False)
        patch.setattr(LiveSession, "landmarks", broken)
        session_id = ws.receive_json()["session_id"]
        messages = []
        for pose in poses:
            ws.send_bytes(encode_landmarks(pose))
            messages.append(ws.receive_json())
            if messages[-1]["type"] == "error":
                break
    assert messages[-1]["status"] == 500 and "what was recorded is kept" in messages[-1]["detail"]
    stored = client.get(f"/api/sessions/{session_id}", headers=thera).json()
    assert stored["status"] == "interrupted" and stored["rep_count"] == 1  # the first squat ends before 3 s


def test_sessions_left_recording_by_a_killed_server_are_interrupted_on_restart(tmp_path):
    from formcheck.core.events import RepCompleted
    from formcheck.storage.database import Store

    settings = make_settings(tmp_path)
    store = Store(settings.db_url)
    session_id = store.start_session(kind="live", title="Squat", source="websocket:landmarks")
    rep = RepCompleted(t=2.0, index=1, start_s=0.5, end_s=2.0, range_of_motion=80.0, tempo_s=1.5, score=90.0)
    store.add_events(session_id, "squat", [rep])
    store.update_progress(session_id, duration_s=4.0, frames=120, frames_with_person=118)
    upload = store.start_session(kind="upload", title="Squat", source="clip.mp4")  # not a live session
    store.close()
    with api_client(settings) as client:
        rows = {r.id: r for r in (client.app.state.store.get_session(i) for i in (session_id, upload))}
    assert rows[session_id].status == "interrupted" and rows[session_id].frames == 120
    assert rows[upload].status == "recording"
    restored = Store(settings.db_url).load_result(session_id)
    assert restored.rep_count == 1


def test_redis_slots_are_shared_across_processes_and_lapse_when_a_process_dies(monkeypatch):
    import asyncio
    import uuid

    import redis

    from server.services import live_limits
    from server.services.live_limits import LiveSlots, SlotRefused

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"formcheck-test:{uuid.uuid4().hex}"
    monkeypatch.setattr(live_limits, "SLOT_TTL_S", 0.5)

    async def scenario():
        one, two = (LiveSlots(3, 1, url, prefix=prefix) for _ in range(2))  # two API processes
        try:
            lease = await one.acquire(7)
            await lease.hold_session(42)
            with pytest.raises(SlotRefused) as refused:
                await two.acquire(7)  # the other process sees user 7's slot
            assert refused.value.scope == "user"
            assert await two.held_sessions() == {42}
            await asyncio.sleep(0.7)  # process one died without releasing: its slot lapses
            assert await two.held_sessions() == set()
            again = await two.acquire(7)
            await again.release()
            assert await two.in_use(7) == 0
        finally:
            keys = await one.redis.keys(f"{prefix}:*")
            if keys:
                await one.redis.delete(*keys)
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_server_side_pose_sessions_are_capped_but_on_device_ones_are_not(live_api):
    from server.services.live_runtime import live_runtime

    client, tokens, _ = live_api
    runtime = live_runtime(client.app)
    saved, runtime.max_server_pose = runtime.max_server_pose, 0  # as when every place holds a model
    try:
        with connect(client, tokens["pat1"], "exercise=squat&mode=frames") as ws:
            busy = ws.receive_json()
        assert busy["status"] == 503 and "on your device" in busy["detail"]
        with connect(client, tokens["pat1"]) as ws:  # landmarks mode needs no model on the server
            assert ws.receive_json()["type"] == "session"
            ws.send_json({"type": "stop"})
            assert ws.receive_json()["type"] == "summary"
    finally:
        runtime.max_server_pose = saved
    assert runtime.server_pose_sessions == 0


def test_video_stays_on_the_device_when_the_account_says_so(tmp_path):
    """The therapist (or the patient) sets "video never leaves this device": the server then refuses a session that
    would send video frames, and on-device sessions go on as before."""
    if not exercise_ids():
        pytest.skip("the exercise catalog is not installed yet")
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        thera = login(client, "thera")
        pid = create_patient(client, thera, "pat1")
        token = login(client, "pat1")["Authorization"].split()[1]
        with connect(client, token, "exercise=squat&mode=frames") as ws:
            assert ws.receive_json()["type"] == "session"  # the default: frames are accepted
        r = client.patch(f"/api/patients/{pid}", json={"video_on_device_only": True}, headers=thera)
        assert r.status_code == 200 and r.json()["video_on_device_only"] is True
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["video_on_device_only"] is True
        with connect(client, token, "exercise=squat&mode=frames") as ws:
            refused = ws.receive_json()
        assert refused["type"] == "error" and refused["status"] == 403 and "on the device" in refused["detail"]
        with connect(client, token) as ws:  # on-device mode still works
            assert ws.receive_json()["type"] == "session"
            send_poses(ws, squats(1)[:5])
            ws.send_json({"type": "stop"})
            assert ws.receive_json()["type"] == "summary"
        # the patient can turn it off again themself
        mine = {"Authorization": f"Bearer {token}"}
        r = client.patch("/api/me", json={"video_on_device_only": False}, headers=mine)
        assert r.status_code == 200 and r.json()["video_on_device_only"] is False
