"""``formcheck live``: a guided, recorded session in a preview window, from a camera or a video file.

The camera (or a video paced in real time) is read in a background thread that keeps only the newest frame
(:mod:`formcheck.live.frames`); the analysis thread (:mod:`formcheck.live.analysis`) steps the one frame loop of a
:class:`~formcheck.coaching.session.CoachedSession`; this thread draws the HUD (:mod:`formcheck.live.hud`), shows
it (:mod:`formcheck.live.window`) and handles keys. Events go to the store through a background
:class:`~formcheck.storage.database.SessionRecorder`, so each repetition, hold, warning and pain report is saved
when it happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from formcheck.coaching.flow import Phase, SessionFlow
from formcheck.coaching.plan import PlanItem
from formcheck.coaching.session import CoachedSession
from formcheck.coaching.speech import Speaker
from formcheck.engine import create_analyzer
from formcheck.io.sources import FrameSource, SourceError, WebcamSource, open_source
from formcheck.live.analysis import Analysed, AnalysisThread
from formcheck.live.display import check_display, x_display_reachable
from formcheck.live.frames import LatestFrameReader, open_frames
from formcheck.live.hud import render
from formcheck.live.options import LiveError, LiveOptions, LiveResult, parse_auto_keys
from formcheck.live.plan import build_plan
from formcheck.live.recording import LandmarkRecording, ProgressWriter, open_store
from formcheck.live.screenshots import Screenshots
from formcheck.live.window import Window
from formcheck.pipeline.sinks import CallbackSink
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
from formcheck.pose.models import ModelError
from formcheck.pose.smoothing import PoseSmoother
from formcheck.storage.database import SessionRecorder, Store, data_dir

__all__ = ["LatestFrameReader", "LiveError", "LiveOptions", "LiveResult", "build_plan", "check_display",
           "open_store", "parse_auto_keys", "run_live", "x_display_reachable"]


def run_live(options: LiveOptions, log: Callable[[str], None] = print) -> LiveResult:
    """Run a live session to its end and return what was recorded. Raises :class:`LiveError` for bad input."""
    title, programme_name, plan = build_plan(options.exercise, options.programme)
    live = open_live(options, title, programme_name, plan)
    log(f"session {live.session_id}: {title} ({live.source.name}, model {options.model}); keys: space pause, "
        "n next, r redo, p pain stop, m mute, q quit")
    status, error = "interrupted", None
    try:
        status, error = live.run(log)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        report, landmarks_file = live.close(status, error)
    log(f"session {live.session_id} saved ({status}): " + one_line_summary(report))
    return LiveResult(live.session_id, status, report, live.shown, live.dropped(), round(live.fps, 1),
                      landmarks_file)


def open_live(options: LiveOptions, title: str, programme: str | None, plan: list[PlanItem]) -> LiveRun:
    """Open the store, the window, the source and the pose model, and start the recorded session."""
    store = open_store(options.db_url)
    window = Window(options.window_size) if options.show_window else None
    source, estimator = _open_inputs(options, store, window)
    session_id = store.start_session(kind="live", title=title, programme=programme, model=options.model,
                                     source=source.name, patient_id=options.patient_id)
    speaker = Speaker(muted=options.mute, beeps=options.beeps)
    recorder = SessionRecorder(store, session_id)
    flow = SessionFlow(plan, create_analyzer, recorder, title=title, intro_s=options.intro_s, say=speaker.say,
                       beep=speaker.beep)
    landmarks = None
    if options.save_landmarks:
        landmarks = LandmarkRecording(store, session_id, data_dir() / "landmarks",
                                      {"source": source.name, "model": options.model})
    sinks = [CallbackSink(lambda r: landmarks.writer.add(r.pose))] if landmarks else []
    session = CoachedSession(flow, smoother=PoseSmoother(), sinks=sinks, model=options.model, source=source.name)
    return LiveRun(options, store, window, source, estimator, session_id, speaker, recorder, session, landmarks)


def _open_inputs(options: LiveOptions, store: Store, window: Window | None) -> tuple[FrameSource, PoseEstimator]:
    """The frame source and the pose estimator; what was opened is closed again when one of them fails."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our own message says what failed
    try:
        source = options.source if isinstance(options.source, FrameSource) else open_source(
            options.source, realtime=options.realtime)
    except SourceError as exc:
        if window:
            window.close()
        store.close()
        raise LiveError(str(exc)) from None
    try:
        return source, PoseEstimator.create(PoseEstimatorOptions(model=options.model))
    except ModelError as exc:
        source.close()
        store.close()
        raise LiveError(str(exc)) from None


@dataclass
class LiveRun:
    """One live session's resources and its window loop."""

    options: LiveOptions
    store: Store
    window: Window | None
    source: FrameSource
    estimator: PoseEstimator
    session_id: int
    speaker: Speaker
    recorder: SessionRecorder
    session: CoachedSession
    landmarks: LandmarkRecording | None
    shown: int = 0
    fps: float = 0.0
    last_image: np.ndarray | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        opts = self.options
        self.mirror = opts.mirror if opts.mirror is not None else isinstance(self.source, WebcamSource)
        self.pending_keys = sorted(opts.auto_keys)
        self.shots = Screenshots(opts.screenshot_dir, opts.screenshot_every_s) if opts.screenshot_dir else None
        self.progress = ProgressWriter(self.store, self.session_id)
        frames, self.dropped, self._close_frames = open_frames(self.source)
        self.analyser = AnalysisThread(frames, self.estimator, self.session, self.lock, on_time=self.apply_keys)
        self._last_tick = time.perf_counter()

    @property
    def flow(self) -> SessionFlow:
        return self.session.flow

    def run(self, log: Callable[[str], None]) -> tuple[str, str | None]:
        """Show frames until the source ends or the person quits, then the closing screens: (status, error)."""
        analyser = self.analyser
        try:
            analyser.start()
            self.show_frames()
            analyser.join()
            if analyser.error is not None:
                raise analyser.error
            if not self.flow.finished:
                notice = self.source.interrupted
                if notice:
                    log(f"{notice}; the session so far is saved")
                self.session.source_ended(analyser.t, notice)
            after_frames(self, analyser.t)
            return ("interrupted" if self.source.interrupted else "completed"), None
        except KeyboardInterrupt:
            self._stop_analysis()
            self.flow.ended_by = self.flow.ended_by or "interrupted"
            self.session.source_ended(analyser.t, "stopped with Ctrl-C")
            return "interrupted", None
        except SourceError as exc:
            log(f"{exc}; the session so far is saved")
            self.session.source_ended(analyser.t, str(exc))
            return "interrupted", str(exc)

    def show_frames(self) -> None:
        """The window loop: draw and show each newest analysed frame, pass keys on."""
        analyser, window = self.analyser, self.window
        while True:
            item = analyser.results.get(timeout=0.05)
            if item is None:  # the camera is late: keep the window responsive
                if analyser.done.is_set() and analyser.results.empty():
                    return
                if window and (key := window.poll()):
                    self.key(key, analyser.t)
            else:
                self._show(item)
            if window and not window.opened:
                with self.lock:
                    self.flow.ended_by = self.flow.ended_by or "window closed"
                analyser.stop.set()

    def _show(self, item: Analysed) -> None:
        now = time.perf_counter()
        self.fps = ema_fps(self.fps, now - self._last_tick)
        self._last_tick = now
        canvas, pts = render(item.frame.image, item.pose, item.view, size=self.options.window_size,
                             mirror=self.mirror, fps=self.fps, model=self.options.model, muted=self.muted)
        self.last_image = item.frame.image
        self.shown += 1
        if self.shots:
            self.shots.maybe(item.t, canvas, item.view, pts, item.pose.present, engine=item.engine, fps=self.fps)
        self.progress.maybe(item.t, self.analyser.frames, self.analyser.with_person)
        if self.window and (key := self.window.show(canvas)):
            self.key(key, item.t)

    @property
    def muted(self) -> bool:
        return self.speaker.muted or not self.speaker.available

    def key(self, key: str, t: float) -> None:
        """A key press: ``m`` mutes, the rest go to the session."""
        if key == "m":
            self.speaker.toggle_mute()
            return
        with self.lock:
            self.session.key(key, t)

    def apply_keys(self, t: float) -> None:
        """Scripted keys (``--auto-keys``) due by ``t`` (called with the lock held)."""
        while self.pending_keys and self.pending_keys[0][0] <= t:
            key = self.pending_keys.pop(0)[1]
            if key == "m":
                self.speaker.toggle_mute()
            else:
                self.session.key(key, t)

    def _stop_analysis(self) -> None:
        self.analyser.stop.set()
        if self.analyser.is_alive():
            self.analyser.join(timeout=5)

    def close(self, status: str, error: str | None) -> tuple[dict, str | None]:
        """Stop, save the session (also after an error mid-set: what was done is kept) and release everything."""
        self._stop_analysis()
        self._close_frames()
        self.session.finish()
        self.recorder.close()
        self.progress.close()
        report = self.session.report_dict()
        landmarks_file = self.landmarks.close() if self.landmarks else None
        self.store.finish_session(self.session_id, status=status, result=report, error=error)
        self.store.close()
        if self.shots:
            self.shots.close()
        self.speaker.close()
        if self.window:
            self.window.close()
        self.estimator.close()
        self.source.close()
        return report, landmarks_file


def after_frames(live: LiveRun, t: float) -> None:
    """After the last frame: keep the window (pain questions, summary) open on the wall clock."""
    start_wall, start_t = time.monotonic(), t
    summary_since = None
    flow, window, options = live.flow, live.window, live.options
    while flow.phase != Phase.DONE and (window is None or window.opened):
        t = start_t + time.monotonic() - start_wall
        with live.lock:
            live.session.tick(t)
            live.apply_keys(t)
        if flow.phase == Phase.SUMMARY:
            summary_since = t if summary_since is None else summary_since
            if t - summary_since >= options.summary_s:
                flow.phase = Phase.DONE
        view = flow.view()
        canvas, pts = render(live.last_image, None, view, size=options.window_size, mirror=live.mirror,
                             model=options.model, muted=live.muted)
        if live.shots:
            live.shots.maybe(t, canvas, view, pts, False)
        if window is None:
            if not live.pending_keys:  # nobody to answer the pain questions without a window
                break
            time.sleep(0.05)
            continue
        if key := window.show(canvas):
            live.key(key, t)
        if not window.opened:
            break
        time.sleep(0.03)


def ema_fps(fps: float, dt: float) -> float:
    if dt <= 0:
        return fps
    return 1.0 / dt if fps == 0 else 0.9 * fps + 0.1 / dt


def one_line_summary(report: dict) -> str:
    rows = report.get("summary", {}).get("exercises", [])
    parts = []
    for r in rows:
        if r["reps"] or r["target_reps"]:
            parts.append(f"{r['name']} {r['reps']}/{r['target_reps'] or '-'} reps")
        elif r["holds_s"]:
            parts.append(f"{r['name']} {len(r['holds_s'])} holds")
    if report.get("pain"):
        parts.append(f"pain reported {report['pain'][-1]['rating']}/10")
    if report.get("frames") and not report.get("frames_with_person"):
        parts.append("nobody was seen: make sure the whole body is in view")
    return "; ".join(parts) or "nothing recorded"
