"""``formcheck live``: the preview window loop, its keys, and the recorded, guided session.

The camera (or a video paced in real time) is read in a background thread that keeps only the newest frame,
so when inference is slower than the camera, frames are dropped instead of the preview lagging behind.
The frame loop runs the pose model, the session flow (:mod:`formcheck.coaching.flow`) and draws the HUD
(:mod:`formcheck.live.hud`); events go to the store through a background
:class:`~formcheck.storage.database.SessionRecorder`,
so each repetition, hold, warning and pain report is saved when it happens.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from formcheck.coaching.flow import Phase, PlanItem, SessionFlow, plan_for_programme, plan_item
from formcheck.core.background import BackgroundWorker
from formcheck.io.sources import (
    Frame,
    FrameSource,
    RealtimeSource,
    SourceError,
    VideoFileSource,
    WebcamSource,
    open_source,
)
from formcheck.live.hud import render
from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions
from formcheck.pose.smoothing import PoseSmoother
from formcheck.pose.types import Pose

WINDOW_TITLE = "formcheck live"
KEY_NAMES = {32: "space", 13: "enter", 10: "enter", 27: "esc", 141: "enter"}


class LiveError(RuntimeError):
    """A problem starting the live session, explained for the person."""


@dataclass
class LiveOptions:
    """What ``formcheck live`` was asked to do."""

    source: str | int | FrameSource = 0  # a path, a camera index, or an opened source
    realtime: bool = False
    exercise: str | None = None
    programme: str | None = None
    model: str = "full"
    save_landmarks: bool = False
    mute: bool = False
    beeps: bool = True
    db_url: str | None = None
    screenshot_dir: Path | None = None
    screenshot_every_s: float = 1.0
    auto_keys: list[tuple[float, str]] = field(default_factory=list)
    intro_s: float = 8.0
    summary_s: float = 30.0
    window_size: tuple[int, int] = (1280, 720)
    mirror: bool | None = None  # default: mirror cameras, not videos
    show_window: bool = True
    patient_id: int | None = None


@dataclass
class LiveResult:
    session_id: int | None
    status: str
    report: dict
    frames_shown: int = 0
    frames_dropped: int = 0
    fps: float = 0.0
    landmarks_file: str | None = None


# --- frames ----------------------------------------------------------------------------------------
class LatestFrameReader:
    """Reads a live source in a thread and keeps only the newest frame (older unread frames are dropped)."""

    def __init__(self, source: FrameSource):
        self.source = source
        self.dropped = 0
        self.error: BaseException | None = None
        self.arrived = 0.0  # monotonic time the frame last handed out was read from the source
        self._latest: Frame | None = None
        self._latest_at = 0.0
        self._ended = False
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self.source:
                with self._cond:
                    if self._stop:
                        break
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest, self._latest_at = frame, time.monotonic()
                    self._cond.notify()
        except BaseException as exc:  # handed to the frame loop
            self.error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify()

    def frames(self, idle_s: float | None = None) -> Iterator[Frame | None]:
        """The newest frame each time; ``None`` after ``idle_s`` without one (so a window can stay responsive)."""
        while True:
            with self._cond:
                waited = 0.0
                while self._latest is None and not self._ended and (idle_s is None or waited < idle_s):
                    self._cond.wait(0.05)
                    waited += 0.05
                frame, self._latest = self._latest, None
                if frame is None and self._ended:
                    break
                if frame is not None:
                    self.arrived = self._latest_at
            yield frame
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._latest = None
        self._thread.join(timeout=2)


def _frames(source: FrameSource) -> tuple[Iterator[Frame], Callable[[], int], Callable[[], None]]:
    """Frames for the loop, a counter of dropped frames and a closer."""
    if source.live:
        reader = LatestFrameReader(source)
        return reader.frames(idle_s=0.1), lambda: reader.dropped + getattr(source, "dropped", 0), reader.close
    from formcheck.pipeline.prefetch import prefetch

    return prefetch(source, size=4), lambda: 0, lambda: None


# --- the session ------------------------------------------------------------------------------------
def build_plan(exercise: str | None, programme: str | None) -> tuple[str, str | None, list[PlanItem]]:
    """(title, programme name, plan) for ``--exercise`` or ``--program``; clear errors for unknown names."""
    if programme:
        from formcheck.programmes import ProgrammeError, load_programme

        try:
            prog = load_programme(programme)
            plan = plan_for_programme(prog)
        except ProgrammeError as exc:
            raise LiveError(str(exc)) from None
        except KeyError as exc:
            raise LiveError(f"programme {programme!r} uses an exercise the catalog lacks: {exc.args[0]}") from None
        return prog.title or prog.name, prog.name, plan
    if not exercise:
        raise LiveError("choose an exercise (--exercise ID) or a programme (--program NAME)")
    try:
        item = plan_item(exercise)
    except KeyError as exc:
        raise LiveError(str(exc.args[0] if exc.args else exc)) from None
    except ValueError as exc:
        raise LiveError(str(exc)) from None
    return item.name, None, [item]


def open_store(url: str | None):
    """The session store; an unusable database URL is a :class:`LiveError`."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from formcheck.storage.database import Store

    try:
        return Store(url)
    except ArgumentError:
        raise LiveError(f"{url!r} is not a database URL (e.g. sqlite:///path/to/formcheck.db)") from None
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise LiveError(f"cannot open the database {_shown_url(url)}: {reason}") from None


def _shown_url(url: str | None) -> str:
    """The database URL for messages, with any password hidden."""
    from sqlalchemy.engine import make_url

    if not url:
        return "(default)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return url


def _analyzer_factory(exercise: str):
    from formcheck.engine import create_analyzer

    return create_analyzer(exercise)


def check_display() -> None:
    """OpenCV's Qt window aborts the process without a display: say so first."""
    if not sys.platform.startswith("linux"):
        return
    display = os.environ.get("DISPLAY")
    if not (display or os.environ.get("WAYLAND_DISPLAY")):
        raise LiveError(
            "no display: the preview window needs a desktop session (DISPLAY is not set). "
            "Under a virtual X server: xvfb-run formcheck live ..."
        )
    if display and not os.environ.get("WAYLAND_DISPLAY") and not _x_display_reachable():
        raise LiveError(f"cannot connect to the display {display}: is the desktop session (X server) running?")


def _x_display_reachable() -> bool:
    """Whether libX11 can open $DISPLAY (True when libX11 cannot be loaded: let the GUI toolkit decide)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x11 = ctypes.cdll.LoadLibrary(name)
    except OSError:
        return True
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(None)
    if not handle:
        return False
    x11.XCloseDisplay(handle)
    return True


class _Screenshots:
    """Saves rendered canvases (PNG) and what the HUD showed (hud.jsonl) from a background thread."""

    def __init__(self, folder: Path, every_s: float):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.every_s = every_s
        self._next_t = 0.0
        self._last_phase = ""
        self._count = 0
        self._log = open(self.folder / "hud.jsonl", "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._writer = BackgroundWorker(self._write, maxsize=64, name="screenshots", drop_when_full=True)

    def maybe(self, t: float, canvas: np.ndarray, view, pts, present: bool, engine: dict | None = None,
              fps: float | None = None) -> None:
        if not (t >= self._next_t or view.phase != self._last_phase):
            return
        self._next_t = t + self.every_s
        self._last_phase = view.phase
        self._count += 1
        name = f"{self._count:04d}_{view.phase}.png"
        record = {"file": name, "t": round(t, 3), **view.to_dict(), "pose_present": present,
                  "engine_reps": (engine or {}).get("reps"), "fps": None if fps is None else round(fps, 1)}
        if pts is not None:
            record["joints_px"] = [[round(float(x), 1), round(float(y), 1)] for x, y in pts]
        self._writer.submit((name, canvas.copy(), record))

    def _write(self, item: tuple[str, np.ndarray, dict]) -> None:
        name, canvas, record = item
        cv2.imwrite(str(self.folder / name), canvas)
        self._log.write(json.dumps(record, default=_json_default) + "\n")
        self._log.flush()

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._log.close()


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


class _Window:
    def __init__(self, size: tuple[int, int]):
        check_display()
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        cv2.resizeWindow(WINDOW_TITLE, *size)
        self.opened = True

    def show(self, canvas: np.ndarray) -> str | None:
        if not self.opened:  # closed by the person: imshow would open it again
            return None
        cv2.imshow(WINDOW_TITLE, canvas)
        return self.poll()

    def poll(self) -> str | None:
        """Process window events; the key pressed, if any."""
        code = cv2.waitKey(1)
        try:
            visible = cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:  # Qt drops its GUI state once the last window is closed
            visible = False
        if not visible:
            self.opened = False
            return "q"
        if code < 0:
            return None
        code &= 0xFFFF
        if code in KEY_NAMES:
            return KEY_NAMES[code]
        code &= 0xFF
        return KEY_NAMES.get(code) or (chr(code).lower() if 32 < code < 127 else None)

    def close(self) -> None:
        if self.opened:
            self.opened = False
            try:
                cv2.destroyWindow(WINDOW_TITLE)
                cv2.waitKey(1)
            except cv2.error:
                pass  # already gone


class _Progress:
    """Writes the session's running totals to the store every few seconds, off the frame loop."""

    def __init__(self, store, session_id: int, every_s: float = 2.0):
        self.store, self.session_id, self.every_s = store, session_id, every_s
        self._next = 0.0
        # progress is a convenience (events are written separately): skip updates rather than wait, ignore errors
        self._writer = BackgroundWorker(self._write, maxsize=1, name="progress", drop_when_full=True,
                                        swallow_errors=True)

    def maybe(self, t: float, frames: int, with_person: int) -> None:
        if t < self._next:
            return
        self._next = t + self.every_s
        self._writer.submit((t, frames, with_person))

    def _write(self, item: tuple[float, int, int]) -> None:
        t, frames, with_person = item
        self.store.update_progress(self.session_id, duration_s=round(t, 3), frames=frames,
                                   frames_with_person=with_person)

    def close(self) -> None:
        self._writer.close()


class _Mailbox:
    """One slot: the newest item wins (an unread older one is replaced)."""

    def __init__(self):
        self._item = None
        self._cond = threading.Condition()

    def put(self, item) -> None:
        with self._cond:
            self._item = item
            self._cond.notify()

    def get(self, timeout: float):
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def empty(self) -> bool:
        return self._item is None

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()


class _Analyser(threading.Thread):
    """Pose estimation and the session flow on each newest frame, in a worker thread, so drawing and showing
    the previous frame (main thread) overlap with inference of the next."""

    def __init__(self, frames, estimator, smoother, flow: SessionFlow, lock: threading.Lock,
                 keys: list[tuple[float, str]], speaker, pose_sink: Callable[[Pose], None] | None = None):
        super().__init__(name="analysis", daemon=True)
        self.frames_in, self.estimator, self.smoother, self.flow, self.lock = frames, estimator, smoother, flow, lock
        self.keys, self.speaker, self.pose_sink = keys, speaker, pose_sink
        self.results = _Mailbox()
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.t = 0.0
        self.frames = 0
        self.with_person = 0
        self.pose_s = 0.0
        self.flow_s = 0.0

    def run(self) -> None:
        t0 = None
        try:
            for frame in self.frames_in:
                if self.stop.is_set():
                    break
                if frame is None:
                    continue
                t0 = frame.timestamp if t0 is None else t0
                t = frame.timestamp - t0
                a = time.perf_counter()
                pose = self.smoother(self.estimator.detect_for_video(frame.image, frame.timestamp))
                pose = Pose(pose.landmarks, pose.world, t, pose.image_size, pose.people)
                b = time.perf_counter()
                with self.lock:
                    self.flow.update(pose)
                    _apply_keys(self.flow, self.keys, t, self.speaker)
                    view, engine, finished = self.flow.view(), self.flow.engine_snapshot, self.flow.finished
                self.pose_s += b - a
                self.flow_s += time.perf_counter() - b
                self.t = t
                self.frames += 1
                self.with_person += pose.present
                if self.pose_sink is not None:
                    self.pose_sink(pose)
                self.results.put((frame, pose, view, engine, t))
                if finished:
                    break
        except BaseException as exc:  # handed to the main thread
            self.error = exc
        finally:
            self.done.set()
            self.results.wake()


def run_live(options: LiveOptions, log: Callable[[str], None] = print) -> LiveResult:
    """Run a live session to its end and return what was recorded. Raises :class:`LiveError` for bad input."""
    from formcheck.coaching.speech import Speaker
    from formcheck.io.recording import ChunkedPoseWriter
    from formcheck.pose.models import ModelError
    from formcheck.storage.database import data_dir

    title, programme_name, plan = build_plan(options.exercise, options.programme)
    store = open_store(options.db_url)
    window = _Window(options.window_size) if options.show_window else None
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our own message says what failed
    try:
        if isinstance(options.source, FrameSource):
            source = options.source
        else:
            source = open_source(options.source, realtime=options.realtime)
    except SourceError as exc:
        if window:
            window.close()
        store.close()
        raise LiveError(str(exc)) from None
    try:
        estimator = PoseEstimator.create(PoseEstimatorOptions(model=options.model))
    except ModelError as exc:
        source.close()
        store.close()
        raise LiveError(str(exc)) from None
    mirror = options.mirror if options.mirror is not None else isinstance(source, WebcamSource)
    session_id = store.start_session(kind="live", title=title, programme=programme_name, model=options.model,
                                     source=source.name, patient_id=options.patient_id)
    from formcheck.storage.database import SessionRecorder

    recorder = SessionRecorder(store, session_id)
    progress = _Progress(store, session_id)
    speaker = Speaker(muted=options.mute, beeps=options.beeps)
    flow = SessionFlow(plan, _analyzer_factory, recorder, title=title, intro_s=options.intro_s, say=speaker.say,
                       beep=speaker.beep, model=options.model, source=source.name)
    shots = _Screenshots(options.screenshot_dir, options.screenshot_every_s) if options.screenshot_dir else None
    smoother = PoseSmoother()
    pending_keys = sorted(options.auto_keys)
    log(f"session {session_id}: {title} ({source.name}, model {options.model}); keys: space pause, "
        "n next, r redo, p pain stop, m mute, q quit")

    frames, dropped, close_frames = _frames(source)
    lock = threading.Lock()
    landmarks = None
    if options.save_landmarks:  # written as it goes: a crash or a kill keeps what was recorded
        name = f"session_{session_id}.npz"
        landmarks = ChunkedPoseWriter(data_dir() / "landmarks" / name, {"source": source.name, "model": options.model})
        _set_landmarks_file(store, session_id, name)
    analyser = _Analyser(frames, estimator, smoother, flow, lock, pending_keys, speaker,
                         landmarks.add if landmarks else None)
    status, error = "interrupted", None
    shown = 0
    fps = 0.0
    last_tick = time.perf_counter()
    last_image: np.ndarray | None = None
    muted = lambda: speaker.muted or not speaker.available  # noqa: E731
    try:
        analyser.start()
        while True:
            item = analyser.results.get(timeout=0.05)
            if item is None:  # the camera is late: keep the window responsive
                if analyser.done.is_set() and analyser.results.empty():
                    break
                if window and (key := window.poll()):
                    with lock:
                        _key(flow, key, analyser.t, speaker)
                if window and not window.opened:
                    analyser.stop.set()
                continue
            frame, pose, view, engine, t = item
            now = time.perf_counter()
            fps = _ema_fps(fps, now - last_tick)
            last_tick = now
            canvas, pts = render(frame.image, pose, view, size=options.window_size, mirror=mirror, fps=fps,
                                 model=options.model, muted=muted())
            last_image = frame.image
            shown += 1
            if shots:
                shots.maybe(t, canvas, view, pts, pose.present, engine=engine, fps=fps)
            progress.maybe(t, analyser.frames, analyser.with_person)
            if window:
                key = window.show(canvas)
                if key:
                    with lock:
                        _key(flow, key, t, speaker)
                if not window.opened:
                    with lock:
                        flow.ended_by = flow.ended_by or "window closed"
                    analyser.stop.set()
        analyser.join()
        if analyser.error is not None:
            raise analyser.error
        t = analyser.t
        if not flow.finished:
            notice = source.interrupted
            if notice:
                log(f"{notice}; the session so far is saved")
            flow.source_ended(t, notice)
        status = "interrupted" if source.interrupted else "completed"
        _after_frames(flow, window, shots, options, t, last_image, mirror, speaker, pending_keys)
    except KeyboardInterrupt:
        analyser.stop.set()
        analyser.join()
        flow.ended_by = flow.ended_by or "interrupted"
        status = "interrupted"
        flow.source_ended(analyser.t, "stopped with Ctrl-C")
    except SourceError as exc:
        status, error = "interrupted", str(exc)
        log(f"{exc}; the session so far is saved")
        flow.source_ended(analyser.t, str(exc))
    except Exception as exc:
        status, error = "interrupted", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        analyser.stop.set()
        if analyser.is_alive():
            analyser.join(timeout=5)
        close_frames()
        t = analyser.t
        flow.end_open_set(t)  # after an error mid-set: keep what was done
        recorder.close()
        progress.close()
        report = flow.report_dict()
        report.update(frames=analyser.frames, frames_with_person=analyser.with_person, duration_s=round(t, 3))
        landmarks_file = None
        if landmarks:
            saved = landmarks.close()
            landmarks_file = saved.name if saved else None
            if saved is None:
                _set_landmarks_file(store, session_id, None)
        store.finish_session(session_id, status=status, report=report, series=_series(flow), error=error)
        store.close()
        if shots:
            shots.close()
        speaker.close()
        if window:
            window.close()
        estimator.close()
        source.close()
    log(f"session {session_id} saved ({status}): " + _one_line_summary(report))
    return LiveResult(session_id, status, report, shown, dropped(), round(fps, 1), landmarks_file)


def _after_frames(flow, window, shots, options, t, last_image, mirror, speaker, pending_keys) -> None:
    """After the last frame: keep the window (pain questions, summary) open on the wall clock."""
    start_wall, start_t = time.monotonic(), t
    summary_since = None
    while flow.phase != Phase.DONE and (window is None or window.opened):
        t = start_t + time.monotonic() - start_wall
        flow.tick(t)
        _apply_keys(flow, pending_keys, t, speaker)
        if flow.phase == Phase.SUMMARY:
            summary_since = t if summary_since is None else summary_since
            if t - summary_since >= options.summary_s:
                flow.phase = Phase.DONE
        view = flow.view()
        canvas, pts = render(last_image, None, view, size=options.window_size, mirror=mirror,
                             model=options.model, muted=speaker.muted or not speaker.available)
        if shots:
            shots.maybe(t, canvas, view, pts, False)
        if window is None:
            if flow.phase == Phase.SUMMARY and not pending_keys:
                break
            if not pending_keys:  # nobody to answer the pain questions without a window
                break
            time.sleep(0.05)
            continue
        key = window.show(canvas)
        if key:
            _key(flow, key, t, speaker)
        if not window.opened:
            break
        time.sleep(0.03)


def _key(flow: SessionFlow, key: str, t: float, speaker) -> None:
    if key == "m":
        speaker.toggle_mute()
    else:
        flow.key(key, t)


def _apply_keys(flow: SessionFlow, pending: list[tuple[float, str]], t: float, speaker) -> None:
    while pending and pending[0][0] <= t:
        _key(flow, pending.pop(0)[1], t, speaker)


def _ema_fps(fps: float, dt: float) -> float:
    if dt <= 0:
        return fps
    return 1.0 / dt if fps == 0 else 0.9 * fps + 0.1 / dt


def _series(flow: SessionFlow) -> dict | None:
    if not flow.series:
        return None
    if len(flow.series) == 1:
        return next(iter(flow.series.values()))
    return {"by_exercise": flow.series}


def _set_landmarks_file(store, session_id: int, name: str | None) -> None:
    from formcheck.storage.database import ExerciseSession

    with store.session() as db, db.begin():
        row = db.get(ExerciseSession, session_id)
        if row is not None:
            row.landmarks_file = name


def _one_line_summary(report: dict) -> str:
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


def parse_auto_keys(text: str) -> list[tuple[float, str]]:
    """``"5:n,12.5:p,13:7,14:enter"`` -> [(5.0, "n"), ...] (seconds of session time : key)."""
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        when, sep, key = part.partition(":")
        try:
            seconds = float(when)
        except ValueError:
            seconds = -1
        if not sep or seconds < 0 or not key:
            raise LiveError(f"--auto-keys: {part!r} should look like SECONDS:KEY, e.g. 5:n or 12.5:space")
        keys.append((seconds, key.strip().lower()))
    return keys


# --- speed --------------------------------------------------------------------------------------------
class _ResizedSource(FrameSource):
    """Frames of another source scaled to a fixed size (the benchmark's 640x480 camera)."""

    def __init__(self, inner: FrameSource, size: tuple[int, int]):
        self.inner, self.size = inner, size
        self.fps, self.frame_count, self.name = inner.fps, inner.frame_count, inner.name

    def __iter__(self) -> Iterator[Frame]:
        for f in self.inner:
            if f.size == self.size:
                yield f
            else:
                yield Frame(cv2.resize(f.image, self.size, interpolation=cv2.INTER_AREA), f.timestamp, f.index)

    def close(self) -> None:
        self.inner.close()


def measure_live_fps(source: str | Path, model: str = "full", size: tuple[int, int] = (640, 480),
                     seconds: float | None = None, canvas: tuple[int, int] = (1280, 720)) -> dict:
    """Run the live loop (pose and session flow in the analysis thread, HUD drawing in this one; no window) on a
    video scaled to ``size`` and paced in real time like a camera.

    ``analysed_fps`` is the rate frames are analysed, ``shown_fps`` the rate previews are drawn: the loop keeps up
    when they are close to ``source_fps``. Late frames are dropped, so the frame age when its preview is drawn
    (``lag_ms``, from reading the frame) stays about one inference long instead of growing."""
    est = PoseEstimator.create(PoseEstimatorOptions(model=model))  # before the clock starts
    flow = SessionFlow([PlanItem("squat", "Squat", reps=1000)], _analyzer_factory, None, intro_s=0)
    inner = _ResizedSource(VideoFileSource(source), size)
    realtime = RealtimeSource(inner)
    reader = LatestFrameReader(realtime)
    analyser = _Analyser(reader.frames(idle_s=0.1), est, PoseSmoother(), flow, threading.Lock(), [], None)
    lags, draw_s, shown = [], 0.0, 0
    started = time.monotonic()
    analyser.start()
    try:
        while True:
            item = analyser.results.get(timeout=0.05)
            if item is None:
                if analyser.done.is_set() and analyser.results.empty():
                    break
                continue
            frame, pose, view, _, t = item
            a = time.perf_counter()
            render(frame.image, pose, view, size=canvas, mirror=True, fps=30.0, model=model)
            draw_s += time.perf_counter() - a
            lags.append(time.monotonic() - reader.arrived)
            shown += 1
            if seconds is not None and t >= seconds:
                analyser.stop.set()
        analyser.join()
        wall = time.monotonic() - started
    finally:
        analyser.stop.set()
        reader.close()
        est.close()
        realtime.close()
    if analyser.error is not None:
        raise analyser.error
    n = max(analyser.frames, 1)
    return {
        "model": model,
        "size": f"{size[0]}x{size[1]}",
        "source_fps": round(inner.fps, 2),
        "frames_analysed": analyser.frames,
        "frames_shown": shown,
        "frames_dropped": reader.dropped + realtime.dropped,
        "analysed_fps": round(analyser.frames / wall, 1) if wall else 0.0,
        "shown_fps": round(shown / wall, 1) if wall else 0.0,
        "wall_s": round(wall, 2),
        "lag_ms_median": round(1000 * float(np.median(lags)), 1) if lags else None,
        "lag_ms_p95": round(1000 * float(np.percentile(lags, 95)), 1) if lags else None,
        "ms_per_frame": {
            "pose": round(1000 * analyser.pose_s / n, 2),
            "flow": round(1000 * analyser.flow_s / n, 2),
            "draw": round(1000 * draw_s / max(shown, 1), 2),
        },
    }
