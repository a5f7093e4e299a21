"""The live analysis thread: pose estimation and the coached session's frame loop on each newest frame, so
drawing the previous frame (main thread) overlaps with inference of the next."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from formcheck.coaching.session import CoachedSession
from formcheck.coaching.view import HudView
from formcheck.engine.state import EngineState
from formcheck.io.sources import Frame
from formcheck.live.frames import Mailbox
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.types import Pose


@dataclass(frozen=True, slots=True)
class Analysed:
    """One analysed frame for the window: the frame, its pose, what to show, the engine's state, session time."""

    frame: Frame
    pose: Pose
    view: HudView
    engine: EngineState | None
    t: float


class AnalysisThread(threading.Thread):
    """Steps the session's frame loop once per frame (session time starts at 0 with the first frame).

    ``on_time(t)`` runs under ``lock`` after each step (scripted keys); results go to the one-slot ``results``."""

    def __init__(self, frames: Iterator[Frame | None], estimator: PoseEstimator, session: CoachedSession,
                 lock: threading.Lock, on_time: Callable[[float], None] | None = None):
        super().__init__(name="analysis", daemon=True)
        self.frames_in, self.estimator, self.session, self.lock = frames, estimator, session, lock
        self.on_time = on_time
        self.results = Mailbox()
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.t = 0.0
        self.pose_s = 0.0  # seconds spent in pose inference and in the session (for ``formcheck bench``)
        self.flow_s = 0.0

    @property
    def frames(self) -> int:
        return self.session.result.frames

    @property
    def with_person(self) -> int:
        return self.session.result.frames_with_person

    def run(self) -> None:
        t0 = None
        try:
            for frame in self.frames_in:
                if self.stop.is_set():
                    break
                if frame is None:
                    continue
                t0 = frame.timestamp if t0 is None else t0
                if self._analyse(frame, frame.timestamp - t0):
                    break
        except BaseException as exc:  # handed to the main thread
            self.error = exc
        finally:
            self.done.set()
            self.results.wake()

    def _analyse(self, frame: Frame, t: float) -> bool:
        """One frame through the estimator and the loop; True when the session is over."""
        a = time.perf_counter()
        raw = self.estimator.detect_for_video(frame.image, frame.timestamp)
        pose = Pose(raw.landmarks, raw.world, t, raw.image_size, raw.people)
        b = time.perf_counter()
        with self.lock:
            out = self.session.step(frame, pose)
            if self.on_time is not None:
                self.on_time(t)
            flow = self.session.flow
            view, engine, finished = flow.view(), flow.engine_state, flow.finished
        self.pose_s += b - a
        self.flow_s += time.perf_counter() - b
        self.t = t
        self.results.put(Analysed(frame, out.pose, view, engine, t))
        return finished
