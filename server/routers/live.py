"""WebSocket ``/api/live``: JPEG frames in, pose and engine events out, the session recorded as it goes.

Client -> server: binary messages, each one JPEG frame (timestamped on arrival unless a text message
``{"type": "frame_time", "t": seconds}`` came first); text JSON ``{"type": "pain", "rating": 0-10, "location"}``,
``{"type": "next"}``, ``{"type": "stop"}``.
Server -> client: ``{"type": "session", "session_id"}`` first; per frame ``{"type": "frame", "t", "landmarks"
([[x, y, visibility]] * 33 or null), "events", "snapshot"}``; ``{"type": "summary", "report"}`` at the end.
Errors are ``{"type": "error", "title", "detail", "status"}`` followed by a close.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from formcheck.store import Programme, User
from server.auth import COOKIE_NAME
from server.catalog import check_exercise, exercise_info
from server.deps import user_from_token
from server.errors import Problem
from server.live import LiveItem, LiveSession
from server.programmes import can_see

router = APIRouter(prefix="/api", tags=["live"])
log = logging.getLogger("formcheck.live")


def _programme_items(db, user: User, programme: str) -> tuple[str, list[LiveItem]]:
    query = select(Programme).where(
        or_(Programme.owner_id.is_(None), Programme.owner_id == user.id, Programme.id == user.programme_id)
    )
    rows = [p for p in db.scalars(query) if can_see(user, p)]
    match = next((p for p in rows if p.name == programme or str(p.id) == programme), None)
    if match is None:
        names = ", ".join(sorted({p.name for p in rows}))
        raise Problem(404, f"No programme {programme!r}. Available: {names}.", "Unknown programme")
    items = [LiveItem(i["exercise"], i.get("reps"), i.get("hold_s"), int(i.get("sets") or 1)) for i in match.items]
    for item in items:
        check_exercise(item.exercise)
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
        exercise = check_exercise(exercise)
        targets = exercise_info(exercise)["targets"]
        item = LiveItem(exercise, targets.get("reps"), targets.get("hold_s"), 1)
        return user, exercise_info(exercise)["name"], None, [item]


async def _send_problem(ws: WebSocket, exc: Problem) -> None:
    await ws.send_json({"type": "error", "title": exc.title, "detail": exc.detail, "status": exc.status_code})
    await ws.close(code=4000 + exc.status_code)


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
    from formcheck.pose import PoseEstimator, PoseEstimatorOptions

    estimator = await run_in_threadpool(PoseEstimator.create, PoseEstimatorOptions(model=settings.model))
    session = LiveSession(store, estimator, items, user.id, title, programme_name, settings.model)
    status = "interrupted"
    try:
        session_id = await run_in_threadpool(session.start)
        await ws.send_json(
            {
                "type": "session",
                "session_id": session_id,
                "exercise": session.item.exercise,
                "items": [vars(i) for i in items],
            }
        )
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                data = message["bytes"]
                if len(data) > settings.live_max_frame_bytes:
                    await ws.send_json(
                        {
                            "type": "error",
                            "title": "Frame too large",
                            "status": 413,
                            "detail": "Send frames as JPEG of at most a few megabytes.",
                        }
                    )
                    continue
                await ws.send_json(await run_in_threadpool(session.frame, data))
                continue
            try:
                msg = json.loads(message.get("text") or "")
                kind = msg.get("type")
            except (ValueError, AttributeError):
                await ws.send_json(
                    {
                        "type": "error",
                        "title": "Bad message",
                        "status": 422,
                        "detail": "Text messages must be JSON objects with a 'type'.",
                    }
                )
                continue
            if kind == "frame_time":
                session.client_t = float(msg.get("t", 0.0))
            elif kind == "pain":
                rating = msg.get("rating")
                if not isinstance(rating, int | float) or not 0 <= rating <= 10:
                    await ws.send_json(
                        {
                            "type": "error",
                            "title": "Bad pain rating",
                            "status": 422,
                            "detail": "Pain is rated from 0 (none) to 10 (worst).",
                        }
                    )
                    continue
                await ws.send_json(
                    await run_in_threadpool(
                        session.pain, int(rating), str(msg.get("location", ""))[:120], str(msg.get("note", ""))[:2000]
                    )
                )
            elif kind == "next":
                reply = await run_in_threadpool(session.next)
                await ws.send_json(reply)
            elif kind == "stop":
                status = "completed"
                break
            else:
                await ws.send_json(
                    {
                        "type": "error",
                        "title": "Unknown message",
                        "status": 422,
                        "detail": f"Unknown message type {kind!r} (frame_time, pain, next, stop).",
                    }
                )
    except WebSocketDisconnect:
        pass
    finally:
        report = await run_in_threadpool(session.finish, status) if session.session_id else None
        await run_in_threadpool(estimator.close)
    if report is not None and status == "completed":
        try:
            await ws.send_json({"type": "summary", "session_id": session.session_id, "report": report})
            await ws.close()
        except (WebSocketDisconnect, RuntimeError):
            pass
