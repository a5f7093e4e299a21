"""A live session over a WebSocket: JPEG frames in, pose and engine events out, recorded as it goes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from formcheck.events import Event, PainReported
from formcheck.report import SessionReport
from formcheck.store import SessionRecorder, Store


@dataclass
class LiveItem:
    exercise: str
    reps: int | None = None
    hold_s: float | None = None
    sets: int = 1


@dataclass
class LiveSession:
    """One exercise after another (a programme, or a single exercise); not thread-safe, one frame at a time."""

    store: Store
    estimator: object
    items: list[LiveItem]
    patient_id: int | None
    title: str
    programme: str | None = None
    model: str = "full"
    session_id: int = 0
    index: int = 0
    set_index: int = 1
    t: float = 0.0
    client_t: float | None = None
    report: SessionReport | None = None
    series: dict = field(default_factory=dict)
    frames: int = 0
    frames_with_person: int = 0
    _started: float = field(default_factory=time.monotonic)
    _open: bool = False

    def start(self) -> int:
        from formcheck.pose import PoseSmoother

        self.session_id = self.store.start_session(
            kind="live",
            title=self.title,
            patient_id=self.patient_id,
            programme=self.programme,
            model=self.model,
            source="websocket",
        )
        self.recorder = SessionRecorder(self.store, self.session_id)
        self.report = SessionReport(exercise=self.title, model=self.model, source="websocket")
        self.smoother = PoseSmoother()
        self._start_item()
        return self.session_id

    @property
    def item(self) -> LiveItem:
        return self.items[self.index]

    def _start_item(self) -> None:
        from formcheck.analysis import make_analyzer

        self.analyzer = make_analyzer(self.item.exercise)
        self._open = True
        self.recorder.start_set(self.item.exercise, self.set_index, self.item.reps, self.item.hold_s, self.t)

    def _record(self, events: list[Event]) -> None:
        for e in events:
            self.report.add(e)
        self.recorder.record(events)

    def _next_time(self) -> float:
        t = self.client_t if self.client_t is not None else time.monotonic() - self._started
        self.client_t = None
        self.t = max(t, self.t + 1e-3) if self.frames else max(t, 0.0)
        return self.t

    def frame(self, jpeg: bytes) -> dict:
        """Pose and events for one JPEG frame."""
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return {
                "type": "error",
                "title": "Bad frame",
                "status": 422,
                "detail": "A message was not a JPEG image; send each frame as one JPEG.",
            }
        t = self._next_time()
        pose = self.smoother(self.estimator.detect_for_video(image, t))
        events = self.analyzer.update(pose)
        self._record(events)
        self.frames += 1
        self.frames_with_person += pose.present
        landmarks = None
        if pose.present:
            landmarks = np.round(pose.landmarks[:, [0, 1, 3]].astype(float), 4).tolist()
        snapshot = self.analyzer.snapshot() if hasattr(self.analyzer, "snapshot") else {"exercise": self.item.exercise}
        return {
            "type": "frame",
            "t": round(t, 3),
            "landmarks": landmarks,
            "events": [e.to_dict() for e in events],
            "snapshot": snapshot,
        }

    def pain(self, rating: int, location: str = "", note: str = "") -> dict:
        event = PainReported(self.t, int(rating), location, note)
        self._record([event])
        return {
            "type": "pain",
            "event": event.to_dict(),
            "advice": "Stop this exercise. If the pain is sharp or does not settle, contact your clinician "
            "before you continue.",
        }

    def _close_item(self) -> list[Event]:
        if not self._open:
            return []
        self._open = False
        events = self.analyzer.finish(self.t)
        self._record(events)
        if hasattr(self.analyzer, "series"):
            self.series[self.item.exercise] = self.analyzer.series()
        self.recorder.end_set(self.t)
        return events

    def next(self) -> dict:
        """Close the current set and move on (next set of the same item, or the next item)."""
        events = self._close_item()
        if self.set_index < self.item.sets:
            self.set_index += 1
        elif self.index + 1 < len(self.items):
            self.index, self.set_index = self.index + 1, 1
        else:
            return {"type": "set", "done": True, "events": [e.to_dict() for e in events]}
        self._start_item()
        return {
            "type": "set",
            "done": False,
            "exercise": self.item.exercise,
            "set_index": self.set_index,
            "target_reps": self.item.reps,
            "target_hold_s": self.item.hold_s,
            "events": [e.to_dict() for e in events],
        }

    def finish(self, status: str = "completed") -> dict:
        """Close the session; returns the report."""
        self._close_item()
        self.recorder.close()
        self.report.frames, self.report.frames_with_person = self.frames, self.frames_with_person
        self.report.duration_s = round(self.t, 3)
        data = self.report.to_dict()
        self.store.finish_session(self.session_id, status=status, report=data, series=self.series or None)
        return data
