"""A live session over a WebSocket: JPEG frames (or the page's own landmarks) in, engine events out, recorded as
it goes.

The session is the same :class:`formcheck.coaching.session.CoachedSession` as ``formcheck live`` (one frame loop;
sets per exercise, rest between sets, moving on when a target is reached, pain stop), with no how-to phase (the
page shows the how-to). Only the source (JPEG frames, or landmark packets from the page's on-device pose model)
and the replies differ.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from formcheck.coaching.flow import SessionFlow
from formcheck.coaching.plan import PlanItem
from formcheck.coaching.session import CoachedSession
from formcheck.coaching.view import CLINICIAN_ADVICE, frame_snapshot
from formcheck.core.events import Event
from formcheck.engine import create_analyzer
from formcheck.io.sources import Frame
from formcheck.pose.smoothing import PoseSmoother
from formcheck.pose.types import Pose
from formcheck.storage.database import SessionRecorder, Store

log = logging.getLogger("formcheck.live")
MAX_FRAME_SIDE = 2000  # pixels; a camera frame is at most about 1920 wide. Larger ones cost seconds to decode.
PROGRESS_EVERY_S = 2.0  # session seconds between stored progress (frames, duration), so a crash keeps them


class FrameTooLarge(ValueError):
    """An image whose header claims more pixels than any camera frame (a decompression bomb)."""


def frame_size(jpeg: bytes) -> tuple[int, int] | None:
    """Width and height from an image's header, without decoding it (None when it is not an image)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(jpeg)) as im:
            return im.size
    except Image.DecompressionBombError as exc:  # the header claims far more pixels than any camera has
        raise FrameTooLarge(str(exc)) from None
    except (UnidentifiedImageError, OSError, ValueError):
        return None


class _WatchingRecorder:
    """Passes sets and events on to the store's recorder and keeps what happened since the last reply."""

    def __init__(self, recorder: SessionRecorder):
        self.recorder = recorder
        self.events: list[Event] = []
        self.started_sets: list[tuple[str, int]] = []

    def start_set(self, exercise: str, set_index: int = 1, target_reps: int | None = None,
                  target_hold_s: float | None = None, started_s: float = 0.0) -> None:
        self.started_sets.append((exercise, set_index))
        self.recorder.start_set(exercise, set_index, target_reps, target_hold_s, started_s)

    def end_set(self, ended_s: float, status: str = "done") -> None:
        self.recorder.end_set(ended_s, status)

    def record(self, events: list[Event]) -> None:
        self.events.extend(events)
        self.recorder.record(events)

    def take(self) -> tuple[list[Event], list[tuple[str, int]]]:
        events, sets = self.events, self.started_sets
        self.events, self.started_sets = [], []
        return events, sets


def _error(title: str, status: int, detail: str) -> dict:
    return {"type": "error", "title": title, "status": status, "detail": detail}


@dataclass
class LiveSession:
    """One session over a WebSocket; not thread-safe, one message at a time. Each handler returns the
    messages to send, in order."""

    store: Store
    estimator: object
    plan: list[PlanItem]
    patient_id: int | None
    title: str
    programme: str | None = None
    model: str = "full"
    source: str = "websocket"
    session_id: int = 0
    t: float = 0.0
    client_t: float | None = None
    _started: float = field(default_factory=time.monotonic)
    _done_sent: bool = False
    _progress_t: float = 0.0

    @property
    def frames(self) -> int:
        return self.session.result.frames

    @property
    def flow(self) -> SessionFlow:
        return self.session.flow

    def start(self) -> int:
        self.session_id = self.store.start_session(kind="live", title=self.title, patient_id=self.patient_id,
                                                   programme=self.programme, model=self.model, source=self.source)
        self.recorder = _WatchingRecorder(SessionRecorder(self.store, self.session_id))
        flow = SessionFlow(self.plan, create_analyzer, self.recorder, title=self.title, intro_s=0.0)
        self.session = CoachedSession(flow, smoother=PoseSmoother(), model=self.model, source=self.source)
        flow.start(0.0)
        self.recorder.take()  # the first set is announced by the "session" message
        return self.session_id

    def hello(self) -> dict:
        """The first message: the session id and the plan."""
        return {"type": "session", "session_id": self.session_id, "exercise": self.flow.item.exercise,
                "items": [i.to_dict() for i in self.plan]}

    def _next_time(self) -> float:
        t = self.client_t if self.client_t is not None else time.monotonic() - self._started
        self.client_t = None
        self.t = max(t, self.t + 1e-3) if self.frames else max(t, 0.0)
        return self.t

    def frame(self, jpeg: bytes) -> list[dict]:
        """Pose, events and the session's state for one JPEG frame (after a "set" message when one began)."""
        image, problem = _decode(jpeg)
        if problem is not None:
            return [problem]
        t = self._next_time()
        out = self.session.step(Frame(image, t, self.frames), self.estimator.detect_for_video(image, t))
        pose = out.pose
        landmarks = np.round(pose.landmarks[:, [0, 1, 3]].astype(float), 4).tolist() if pose.present else None
        return self._replies(t, landmarks)

    def landmarks(self, pose: Pose) -> list[dict]:
        """Events and the session's state for one pose the page estimated itself (on-device mode); the reply
        carries no landmarks (the page has them)."""
        self.client_t = pose.timestamp
        t = self._next_time()
        self.session.step(None, replace(pose, timestamp=t))
        return self._replies(t, None)

    def _replies(self, t: float, landmarks: list | None) -> list[dict]:
        events, sets = self.recorder.take()
        frame = {"type": "frame", "t": round(t, 3), "landmarks": landmarks,
                 "events": [e.to_dict() for e in events], "snapshot": self.snapshot()}
        if t - self._progress_t >= PROGRESS_EVERY_S:
            self._progress_t = t
            r = self.session.result
            self.store.update_progress(self.session_id, duration_s=round(t, 3), frames=r.frames,
                                       frames_with_person=r.frames_with_person)
        return [*self._set_messages(sets, []), frame]

    def snapshot(self) -> dict:
        """What the page draws: the engine's state of the set in progress, the phase, set, rest timer and cue."""
        return frame_snapshot(self.flow.view(), self.flow.engine_state, self.flow.finished)

    def _set_messages(self, sets: list[tuple[str, int]], events: list[Event]) -> list[dict]:
        """A "set" message for the set that began (the last one), or a "done" one when the plan is over."""
        if sets:
            item = self.flow.item
            return [{"type": "set", "done": False, "exercise": item.exercise, "name": item.name,
                     "set_index": sets[-1][1], "sets": item.sets, "target_reps": item.reps,
                     "target_hold_s": item.hold_s, "events": [e.to_dict() for e in events]}]
        if self.flow.finished and not self._done_sent:
            self._done_sent = True
            return [{"type": "set", "done": True, "events": [e.to_dict() for e in events]}]
        return []

    def pain(self, rating: int, location: str = "", note: str = "") -> list[dict]:
        """A pain stop, as the ``p`` key of ``formcheck live``: the set stops, the report is recorded."""
        event = self.session.report_pain(self.t, int(rating), location, note)
        self.recorder.take()
        return [{"type": "pain", "event": event.to_dict(), "advice": CLINICIAN_ADVICE}]

    def next(self) -> list[dict]:
        """Skip to the next exercise (the ``n`` key); a "set" message says which, or that the plan is over."""
        self.session.key("n", self.t)
        events, sets = self.recorder.take()
        messages = self._set_messages(sets, events)
        if not messages:  # nothing more to do (after a pain stop, or already done)
            self._done_sent = True
            messages = [{"type": "set", "done": True, "events": [e.to_dict() for e in events]}]
        return messages

    def finish(self, status: str = "completed") -> dict | None:
        """Close the session; returns the report (the session's ``AnalysisResult`` with its live totals). When
        that fails the session is still closed, as "interrupted" with what was recorded, and None is returned."""
        try:
            self.session.finish()
            self.recorder.recorder.close()
            report = self.session.report_dict()
        except Exception:
            log.exception("live session %s could not be completed", self.session_id)
            self.store.finish_session(self.session_id, status="interrupted", error=INTERRUPTED)
            return None
        self.store.finish_session(self.session_id, status=status, result=report)
        return report


INTERRUPTED = "The live session ended unexpectedly; what was recorded until then is kept."


def close_orphaned_sessions(store: Store, held: set[int] = frozenset()) -> list[int]:
    """Close live sessions left "recording" by a process that died (all but ``held``, those running now) as
    "interrupted", keeping their rows and progress; returns their ids. Run at start-up."""
    from sqlalchemy import select

    from formcheck.storage.database import ExerciseSession

    with store.session() as db:
        query = select(ExerciseSession.id).where(ExerciseSession.kind == "live",
                                                 ExerciseSession.status == "recording",
                                                 ExerciseSession.source.like("websocket%"))
        ids = [i for i in db.scalars(query) if i not in held]
    for session_id in ids:
        store.finish_session(session_id, status="interrupted", error=INTERRUPTED)
    if ids:
        log.warning("closed %d live session(s) left recording as interrupted: %s", len(ids), ids)
    return ids


def _decode(jpeg: bytes) -> tuple[np.ndarray | None, dict | None]:
    """The frame's image, or the error message to send (too large, or not a JPEG)."""
    try:
        size = frame_size(jpeg) if jpeg else None
    except FrameTooLarge:
        return None, _error("Frame too large", 413, "The image's header claims far more pixels than a camera frame; "
                            f"send frames at most {MAX_FRAME_SIDE} pixels on their longest side (640x480 is plenty).")
    if size is not None and max(size) > MAX_FRAME_SIDE:
        return None, _error("Frame too large", 413, f"A {size[0]}x{size[1]} frame is too large; send frames at most "
                            f"{MAX_FRAME_SIDE} pixels on their longest side (640x480 is plenty).")
    try:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if size else None
    except cv2.error:
        image = None
    if image is None:
        return None, _error("Bad frame", 422, "A message was not a JPEG image; send each frame as one JPEG.")
    return image, None
