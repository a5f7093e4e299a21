"""WebSocket ``/api/live``: JPEG frames, or the page's own landmarks, in; engine events out; the session recorded
as it goes.

``?mode=frames`` (default): binary messages are JPEG frames, the server runs the pose model (timestamped on
arrival unless a text message ``{"type": "frame_time", "t": seconds}`` came first). ``?mode=landmarks&model=lite``:
binary messages are landmark packets from the page's on-device model (:mod:`server.services.live_messages`);
images are refused unread. Text JSON either way: ``{"type": "pain", "rating": 0-10, "location", "note"}``,
``{"type": "next"}``, ``{"type": "stop"}``.
Server -> client: ``{"type": "session", "session_id", "mode"}`` first; per frame or packet ``{"type": "frame", "t",
"landmarks" ([[x, y, visibility]] * 33 or null; always null in landmarks mode), "events", "snapshot"}``;
``{"type": "summary", "report", "received"}`` at the end (``received`` counts what the server got, by kind).
Errors are ``{"type": "error", "title", "detail", "status"}``; those about the connection are followed by a close.
Messages are rate-limited per kind (a flood gets a few "Slow down" replies, not one each); a user has at most
``live_max_connections_per_user`` sessions open, the server ``live_max_connections``. A session is always closed:
"completed" after a stop, "interrupted" when the connection drops or anything fails (what was recorded is kept).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from formcheck.coaching.plan import PlanItem, plan_item
from formcheck.storage.database import Programme, User
from server.api.deps import user_from_token
from server.api.errors import Problem
from server.core.auth import COOKIE_NAME
from server.core.origin import origin_allowed
from server.services.catalog import check_exercise
from server.services.live import LiveSession
from server.services.live_limits import RENEW_EVERY_S, MessageLimits, SlotRefused
from server.services.live_messages import MessageError, decode_landmarks, is_landmark_packet, parse_text
from server.services.live_runtime import live_runtime
from server.services.programmes import can_see

MODES = ("frames", "landmarks")
ON_DEVICE_MODELS = ("lite", "full")
MAX_WAITING = 90  # landmark packets waiting for the engine before new ones are dropped (3 s at 30 per second)
MAX_REFUSED = 2000  # refused (rate-limited) messages before a flooding client is disconnected

router = APIRouter(prefix="/api", tags=["live"])
log = logging.getLogger("formcheck.live")


def _programme_rows(db, user: User, programme: str) -> tuple[str, list[dict]]:
    query = select(Programme).where(
        or_(Programme.owner_id.is_(None), Programme.owner_id == user.id, Programme.id == user.programme_id)
    )
    rows = [p for p in db.scalars(query) if can_see(user, p)]
    match = next((p for p in rows if p.name == programme or str(p.id) == programme), None)
    if match is None:
        names = ", ".join(sorted({p.name for p in rows}))
        raise Problem(404, f"No programme {programme!r}. Available: {names}.", "Unknown programme")
    return match.name, [dict(i) for i in match.items]


def _plan_items(rows: list[dict]) -> list[PlanItem]:
    for i in rows:
        check_exercise(i["exercise"])
    return [
        plan_item(i["exercise"], sets=int(i.get("sets") or 1), reps=i.get("reps"), hold_s=i.get("hold_s"),
                  rest_s=i.get("rest_s"), warmup=bool(i.get("warmup")))
        for i in rows
    ]


def _setup(ws: WebSocket, token: str | None, exercise: str | None, programme: str | None):
    """The user, title, programme and plan. The database connection is given back before the catalog is asked
    (it may use one of its own: holding two at once would exhaust the pool when many patients connect at once)."""
    settings, store = ws.app.state.settings, ws.app.state.store
    with store.session() as db:
        user = user_from_token(db, settings, token or ws.cookies.get(COOKIE_NAME))
        if user.role == "admin":
            raise Problem(403, "The clinic admin account reads the audit log; it records no sessions.", "Forbidden")
        name, rows = _programme_rows(db, user, programme) if programme else (None, None)
        db.expunge(user)
    if rows is not None:
        return user, name, name, _plan_items(rows)
    if not exercise:
        raise Problem(422, "Say what to do: ?exercise=ID or ?programme=NAME.", "Exercise missing")
    item = plan_item(check_exercise(exercise))  # targets from the catalog, as ``formcheck live``
    return user, item.name, None, [item]


def _error(title: str, status: int, detail: str) -> dict:
    return {"type": "error", "title": title, "status": status, "detail": detail}


async def _send_problem(ws: WebSocket, exc: Problem) -> None:
    await ws.send_json(_error(exc.title, exc.status_code, exc.detail))
    await ws.close(code=4000 + exc.status_code)


class Inbox:
    """Client messages in order, except that a JPEG frame still waiting is replaced by a newer one: when the server
    falls behind it drops frames instead of lagging (a client that waits for each reply never loses one).
    Landmark packets are kept (they are cheap, and the count depends on every pose), up to :data:`MAX_WAITING`."""

    def __init__(self):
        self.items: deque[tuple] = deque()
        self.dropped = 0
        self.closed = False
        self._event = asyncio.Event()

    def put(self, item: tuple) -> None:
        if item[0] == "frame" and self.items and self.items[-1][0] == "frame":
            self.items[-1] = item
            self.dropped += 1
        elif item[0] == "landmarks" and len(self.items) >= MAX_WAITING:
            self.dropped += 1
        else:
            self.items.append(item)
        self._event.set()

    def close(self) -> None:
        self.closed = True
        self._event.set()

    async def get(self) -> tuple | None:
        while not self.items:
            if self.closed:
                return None
            self._event.clear()
            await self._event.wait()
        return self.items.popleft()


class Received:
    """What the server received on one connection, by kind (reported in the summary and the log)."""

    def __init__(self):
        self.counts = {"image_messages": 0, "landmark_messages": 0, "text_messages": 0, "bytes": 0}

    def add(self, kind: str, size: int) -> None:
        self.counts[kind] += 1
        self.counts["bytes"] += size


class Reader:
    """Reads, checks and rate-limits the client's messages into the inbox (on the event loop: all cheap)."""

    def __init__(self, ws: WebSocket, inbox: Inbox, mode: str, settings):
        self.ws, self.inbox, self.mode = ws, inbox, mode
        self.max_frame_bytes = settings.live_max_frame_bytes
        self.limits = MessageLimits(settings)
        self.received = Received()
        self.frame_time: float | None = None
        self.flooded = False

    def _refuse(self, reply: dict) -> None:
        if self.limits.reply_allowed():
            self.inbox.put(("error", reply))

    def _limited(self, kind: str) -> bool:
        if self.limits.allow(kind):
            return False
        self._refuse(self.limits.refusal(kind))
        if sum(self.limits.refused.values()) > MAX_REFUSED:
            self.flooded = True
        return True

    def _binary(self, data: bytes) -> None:
        if is_landmark_packet(data):
            self.received.add("landmark_messages", len(data))
            if self.mode != "landmarks":
                return self._refuse(MessageError("Wrong mode", "This session receives JPEG frames; open it with "
                                                 "?mode=landmarks to send landmarks.").reply)
            if self._limited("landmarks"):
                return None
            try:
                self.inbox.put(("landmarks", decode_landmarks(data)))
            except MessageError as exc:
                self._refuse(exc.reply)
            return None
        self.received.add("image_messages", len(data))
        frame_time, self.frame_time = self.frame_time, None
        if self.mode == "landmarks":
            return self._refuse(MessageError("Wrong mode", "This session receives landmarks, not images: the "
                                             "video stays on the device.").reply)
        if self._limited("frame"):
            return None
        if len(data) > self.max_frame_bytes:
            return self._refuse(MessageError("Frame too large", "Send frames as JPEG of at most a few MB.", 413).reply)
        self.inbox.put(("frame", data, frame_time))
        return None

    def _text(self, text: str | None) -> bool:
        """Handle a text message; True when it was a stop."""
        self.received.add("text_messages", len(text or ""))
        try:
            item = parse_text(text)
        except MessageError as exc:
            if not self._limited("control"):
                self._refuse(exc.reply)
            return False
        kind = item[0]
        if kind == "frame_time":
            if not self._limited("frame_time"):
                self.frame_time = item[1]
            return False
        if kind == "stop":
            self.inbox.put(item)
            return True
        if not self._limited("control") and not self._limited(kind):
            self.inbox.put(item)
        return False

    async def run(self) -> None:
        try:
            while not self.flooded:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    self._binary(message["bytes"])
                elif self._text(message.get("text")):
                    break
            if self.flooded:
                self.inbox.put(("error", {"type": "error", "title": "Too many messages", "status": 429,
                                          "detail": "The connection sent far more messages than a camera makes "
                                          "and was closed; what was recorded is kept."}))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.inbox.close()


async def _keep_slot(lease) -> None:
    while True:
        await asyncio.sleep(RENEW_EVERY_S)
        try:
            await lease.renew()
        except Exception as exc:  # Redis briefly away: the slot lapses later, the session goes on
            log.warning("live slot not renewed: %s", exc)


async def _close(ws: WebSocket, code: int = 1000) -> None:
    try:
        await ws.close(code=code)
    except (WebSocketDisconnect, RuntimeError):
        pass


@router.websocket("/live")
async def live(ws: WebSocket, exercise: str | None = None, programme: str | None = None, token: str | None = None,
               mode: str = "frames", model: str | None = None):
    """Live coaching over a WebSocket (see the module docstring for the messages)."""
    settings = ws.app.state.settings
    if not origin_allowed(ws.headers, settings):
        await ws.close(code=1008)  # before the handshake is accepted: the client sees 403
        return
    await ws.accept()
    try:
        if mode not in MODES:
            raise Problem(422, f"mode is one of {', '.join(MODES)}.", "Unknown mode")
        if mode == "landmarks" and (model or "lite") not in ON_DEVICE_MODELS:
            raise Problem(422, f"model is one of {', '.join(ON_DEVICE_MODELS)} in landmarks mode.", "Unknown model")
        user, title, programme_name, items = await run_in_threadpool(_setup, ws, token, exercise, programme)
        if mode == "frames" and user.video_on_device_only:
            raise Problem(403, "This account keeps video on the device: the pose is found in the browser and the "
                          "server accepts no video frames (open the session with mode=landmarks).",
                          "Video stays on the device")
    except Problem as exc:
        await _send_problem(ws, exc)
        return
    runtime = live_runtime(ws.app)
    try:
        lease = await runtime.slots.acquire(user.id)
    except SlotRefused as exc:
        await _send_problem(ws, Problem(429, exc.detail, "Too many live sessions"))
        return
    if mode == "frames" and not runtime.take_server_pose():
        await lease.release()
        await _send_problem(ws, Problem(503, "The server is finding the pose for as many patients as it can "
                                        "right now. Use a browser that runs the pose model on your device, or "
                                        "try again in a few minutes.", "Server busy"))
        return
    try:
        await _run_session(ws, runtime, lease, user, title, programme_name, items, mode, model)
    finally:
        if mode == "frames":
            runtime.give_server_pose()
        await lease.release()


async def _run_session(ws, runtime, lease, user, title, programme_name, items, mode, model) -> None:
    settings, store = ws.app.state.settings, ws.app.state.store
    estimator = None
    if mode == "frames":
        from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
        from formcheck.pose.models import ModelError

        options = PoseEstimatorOptions(model=settings.model, models_dir=settings.models_dir)
        try:  # loading is a one-off per session: not queued behind the other sessions' frames
            estimator = await run_in_threadpool(PoseEstimator.create, options)
        except ModelError as exc:
            await _send_problem(ws, Problem(503, f"The pose model is not available on the server: {exc}"))
            return
    source = "websocket" if mode == "frames" else "websocket:landmarks"
    session = LiveSession(store, estimator, items, user.id, title, programme_name,
                          settings.model if mode == "frames" else (model or "lite"), source=source)
    status, inbox = "interrupted", Inbox()
    reader = Reader(ws, inbox, mode, settings)
    tasks: list[asyncio.Task] = []
    report, failed = None, False
    try:
        await runtime.run(session.start)
        await lease.hold_session(session.session_id)
        await ws.send_json({**session.hello(), "mode": mode})
        tasks = [asyncio.create_task(reader.run()), asyncio.create_task(_keep_slot(lease))]
        while (item := await inbox.get()) is not None:
            kind = item[0]
            if kind == "frame":
                session.client_t = item[2]
                replies = await runtime.run(session.frame, item[1])
            elif kind == "landmarks":
                replies = await runtime.run(session.landmarks, item[1])
            elif kind == "pain":
                replies = await runtime.run(session.pain, *item[1:])
            elif kind == "next":
                replies = await runtime.run(session.next)
            elif kind == "stop":
                status = "completed"
                break
            else:
                replies = [item[1]]
            for reply in replies:
                await ws.send_json(reply)
    except WebSocketDisconnect:
        pass
    except Exception:  # anything else: the session is still closed (interrupted), the client told when it is there
        failed = ws.client_state == WebSocketState.CONNECTED and ws.application_state == WebSocketState.CONNECTED
        if failed:  # (otherwise the connection went away while a reply was being sent)
            log.exception("live session %s failed", session.session_id)
    finally:
        for task in tasks:
            task.cancel()
        if session.session_id:
            report = await asyncio.shield(runtime.run(session.finish, status))
        if estimator is not None:
            await runtime.run(estimator.close)
            estimator = session.estimator = None  # nothing keeps the model's memory
            await runtime.released()
        log.info("live session %s (%s, %s): received %s, %d frames dropped", session.session_id, mode, status,
                 reader.received.counts, inbox.dropped)
    if failed:
        try:
            await ws.send_json({"type": "error", "title": "Server error", "status": 500,
                                "detail": "The live session failed on the server; what was recorded is kept."})
        except (WebSocketDisconnect, RuntimeError):
            pass
    if report is not None and status == "completed":
        try:
            await ws.send_json({"type": "summary", "session_id": session.session_id, "report": report,
                                "dropped_frames": inbox.dropped, "received": reader.received.counts})
        except (WebSocketDisconnect, RuntimeError):
            pass
    await _close(ws, 1000 if status == "completed" else 1011)
