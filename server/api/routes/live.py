"""WebSocket ``/api/live``: JPEG frames in, pose and engine events out, the session recorded as it goes.

Client -> server: binary messages, each one JPEG frame (timestamped on arrival unless a text message
``{"type": "frame_time", "t": seconds}`` came first); text JSON ``{"type": "pain", "rating": 0-10, "location"}``,
``{"type": "next"}``, ``{"type": "stop"}``.
Server -> client: ``{"type": "session", "session_id"}`` first; per frame ``{"type": "frame", "t", "landmarks"
([[x, y, visibility]] * 33 or null), "events", "snapshot"}``; ``{"type": "summary", "report"}`` at the end.
Errors are ``{"type": "error", "title", "detail", "status"}`` followed by a close.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from formcheck.coaching.plan import PlanItem, plan_item
from formcheck.storage.database import Programme, User
from server.api.deps import user_from_token
from server.api.errors import Problem
from server.core.auth import COOKIE_NAME
from server.services.catalog import check_exercise
from server.services.live import LiveSession
from server.services.programmes import can_see

router = APIRouter(prefix="/api", tags=["live"])
log = logging.getLogger("formcheck.live")


def _programme_items(db, user: User, programme: str) -> tuple[str, list[PlanItem]]:
    query = select(Programme).where(
        or_(Programme.owner_id.is_(None), Programme.owner_id == user.id, Programme.id == user.programme_id)
    )
    rows = [p for p in db.scalars(query) if can_see(user, p)]
    match = next((p for p in rows if p.name == programme or str(p.id) == programme), None)
    if match is None:
        names = ", ".join(sorted({p.name for p in rows}))
        raise Problem(404, f"No programme {programme!r}. Available: {names}.", "Unknown programme")
    for i in match.items:
        check_exercise(i["exercise"])
    items = [
        plan_item(i["exercise"], sets=int(i.get("sets") or 1), reps=i.get("reps"), hold_s=i.get("hold_s"),
                  rest_s=i.get("rest_s"), warmup=bool(i.get("warmup")))
        for i in match.items
    ]
    return match.name, items


def _setup(ws: WebSocket, token: str | None, exercise: str | None, programme: str | None):
    settings, store = ws.app.state.settings, ws.app.state.store
    with store.session() as db:
        user = user_from_token(db, settings, token or ws.cookies.get(COOKIE_NAME))
        if programme:
            name, items = _programme_items(db, user, programme)
            return user, name, name, items
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
    """Client messages in order, except that a frame still waiting is replaced by a newer one: when the server
    falls behind it drops frames instead of lagging (a client that waits for each reply never loses one)."""

    def __init__(self):
        self.items: deque[tuple] = deque()
        self.dropped = 0
        self.closed = False
        self._event = asyncio.Event()

    def put(self, item: tuple) -> None:
        if item[0] == "frame" and self.items and self.items[-1][0] == "frame":
            self.items[-1] = item
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


def _parse(text: str | None, frame_time: list[float | None]) -> tuple | None:
    """A text message as an inbox item (None for frame_time, which only stamps the next frame)."""
    try:
        msg = json.loads(text or "")
        kind = msg.get("type")
    except (ValueError, AttributeError):
        return ("error", _error("Bad message", 422, "Text messages must be JSON objects with a 'type'."))
    if kind == "frame_time":
        try:
            frame_time[0] = float(msg.get("t"))
        except (TypeError, ValueError):
            return ("error", _error("Bad frame time", 422, "frame_time needs a number of seconds in 't'."))
        return None
    if kind == "pain":
        rating = msg.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int | float) or not 0 <= rating <= 10:
            return ("error", _error("Bad pain rating", 422, "Pain is rated from 0 (none) to 10 (worst)."))
        return ("pain", int(rating), str(msg.get("location", ""))[:120], str(msg.get("note", ""))[:2000])
    if kind in ("next", "stop"):
        return (kind,)
    return ("error", _error("Unknown message", 422, f"Unknown message type {kind!r} (frame_time, pain, next, stop)."))


async def _read(ws: WebSocket, inbox: Inbox, max_frame_bytes: int) -> None:
    frame_time: list[float | None] = [None]
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                data = message["bytes"]
                if len(data) > max_frame_bytes:
                    inbox.put(("error", _error("Frame too large", 413, "Send frames as JPEG of at most a few MB.")))
                else:
                    inbox.put(("frame", data, frame_time[0]))
                frame_time[0] = None
                continue
            item = _parse(message.get("text"), frame_time)
            if item is not None:
                inbox.put(item)
            if item == ("stop",):
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        inbox.close()


@router.websocket("/live")
async def live(ws: WebSocket, exercise: str | None = None, programme: str | None = None, token: str | None = None):
    """Live coaching over a WebSocket (see the module docstring for the messages)."""
    await ws.accept()
    try:
        user, title, programme_name, items = await run_in_threadpool(_setup, ws, token, exercise, programme)
    except Problem as exc:
        await _send_problem(ws, exc)
        return
    settings, store = ws.app.state.settings, ws.app.state.store
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
    from formcheck.pose.models import ModelError

    try:
        estimator = await run_in_threadpool(PoseEstimator.create, PoseEstimatorOptions(model=settings.model))
    except ModelError as exc:
        await _send_problem(ws, Problem(503, f"The pose model is not available on the server: {exc}"))
        return
    session = LiveSession(store, estimator, items, user.id, title, programme_name, settings.model)
    status, inbox = "interrupted", Inbox()
    reader: asyncio.Task | None = None
    try:
        await run_in_threadpool(session.start)
        await ws.send_json(session.hello())
        reader = asyncio.create_task(_read(ws, inbox, settings.live_max_frame_bytes))
        while (item := await inbox.get()) is not None:
            kind = item[0]
            if kind == "frame":
                session.client_t = item[2]
                replies = await run_in_threadpool(session.frame, item[1])
            elif kind == "pain":
                replies = await run_in_threadpool(session.pain, *item[1:])
            elif kind == "next":
                replies = await run_in_threadpool(session.next)
            elif kind == "stop":
                status = "completed"
                break
            else:
                replies = [item[1]]
            for reply in replies:
                await ws.send_json(reply)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if reader is not None:
            reader.cancel()
        report = await run_in_threadpool(session.finish, status) if session.session_id else None
        await run_in_threadpool(estimator.close)
        if inbox.dropped:
            log.info("live session %s: %d frames dropped (server behind)", session.session_id, inbox.dropped)
    if report is not None and status == "completed":
        try:
            await ws.send_json(
                {"type": "summary", "session_id": session.session_id, "report": report, "dropped_frames": inbox.dropped}
            )
            await ws.close()
        except (WebSocketDisconnect, RuntimeError):
            pass
