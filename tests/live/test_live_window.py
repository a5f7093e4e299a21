"""``formcheck live`` end to end: the real model on a real clip paced in real time, in a window on a virtual X
server (Xvfb). Checks that the window opens and is drawn, the skeleton is on the person, the count on screen is
the engine's count, and the session is in the store; and that a video that stops mid-session keeps the session."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from formcheck.io.draw import GOOD, WARN
from formcheck.io.sources import Frame, FrameSource
from formcheck.live.display import x_display_reachable

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]
CLIP = REPO / "samples" / "squat_side.mp4"
FORMCHECK = [sys.executable, "-m", "formcheck"]


def _models_ready() -> bool:
    from formcheck.pose.models import ModelError, check_model

    try:
        check_model("full")
    except ModelError:
        return False
    return True


@pytest.fixture(scope="module")
def xvfb(tmp_path_factory):
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (apt-get install xvfb, or scripts/system-deps.sh)")
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    read_fd, write_fd = os.pipe()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=err,
        )
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        pytest.skip(f"Xvfb did not start: {log.read_text(errors='replace')[-500:]}")
    display = f":{number}"
    # Xvfb names its display once it listens; a client on a loaded machine may still be turned away at first
    deadline = time.monotonic() + 20
    while not x_display_reachable(display):
        assert proc.poll() is None and time.monotonic() < deadline, (
            f"Xvfb {display} accepts no client: {log.read_text(errors='replace')[-500:]}")
        time.sleep(0.2)
    yield display
    proc.terminate()
    proc.wait(timeout=10)


def read_xwd(path: Path) -> np.ndarray:
    """A 24/32-bit ZPixmap XWD screen dump (what ``xwd -root`` writes) as a BGR array."""
    data = path.read_bytes()
    header = np.frombuffer(data[:100], ">u4")
    header_size, width, height = int(header[0]), int(header[4]), int(header[5])
    byte_order, bits_per_pixel, bytes_per_line, ncolors = int(header[7]), int(header[11]), int(header[12]), int(
        header[19])
    assert bits_per_pixel in (24, 32), f"unexpected XWD pixel size {bits_per_pixel}"
    step = bits_per_pixel // 8
    start = header_size + 12 * ncolors
    pixels = np.frombuffer(data[start : start + height * bytes_per_line], np.uint8).reshape(height, bytes_per_line)
    pixels = pixels[:, : width * step].reshape(height, width, step)
    if byte_order != 0:  # most significant byte first: xRGB / RGB
        pixels = pixels[:, :, ::-1]
    return np.ascontiguousarray(pixels[:, :, :3])


def test_live_window_counts_and_records(xvfb, tmp_path):
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    shots = tmp_path / "shots"
    db = tmp_path / "live.db"
    env = {**os.environ, "DISPLAY": xvfb, "FORMCHECK_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "xcb"}
    cmd = [*FORMCHECK, "live", "--source", str(CLIP), "--realtime", "--exercise", "squat", "--intro", "2",
           "--summary-seconds", "2", "--screenshot-dir", str(shots), "--db", f"sqlite:///{db}", "--mute"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        window_seen, grabbed, out = _watch(proc, env, xvfb, shots, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    if shutil.which("xdotool"):
        assert window_seen, "the preview window never appeared"
    if grabbed is not None:  # what the X server showed: the window is drawn with the video in it
        assert grabbed.shape[:2] == (800, 1280)
        lit = (grabbed.max(axis=2) > 40).mean()
        assert lit > 0.15, f"the screen is almost black ({lit:.0%} lit)"
    _check_screenshots_and_store(shots, db, out)


def _watch(proc, env, xvfb, shots, tmp_path):
    """While the live command runs: look for its window and grab the X screen once it is exercising."""
    window_seen, grabbed = False, None
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if not window_seen and shutil.which("xdotool"):
            found = subprocess.run(["xdotool", "search", "--name", "formcheck live"], env=env,
                                   capture_output=True, text=True)
            window_seen = bool(found.stdout.strip())
        if grabbed is None and shutil.which("xwd") and len(list(shots.glob("*_exercise.png"))) >= 8:
            dump = tmp_path / "screen.xwd"
            subprocess.run(["xwd", "-root", "-silent", "-display", xvfb, "-out", str(dump)], check=True, timeout=20)
            grabbed = read_xwd(dump)
            cv2.imwrite(str(tmp_path / "screen.png"), grabbed)
        time.sleep(0.25)
    out, _ = proc.communicate(timeout=60)
    return window_seen, grabbed, out


def _check_screenshots_and_store(shots, db, out):
    records = [json.loads(line) for line in (shots / "hud.jsonl").read_text().splitlines()]
    phases = [r["phase"] for r in records]
    assert phases[0] == "howto" and "exercise" in phases and phases[-1] in ("summary", "done")
    exercise = [r for r in records if r["phase"] == "exercise"]
    assert len(exercise) >= 10, "about one screenshot per second of exercising"
    for r in exercise:
        assert (shots / r["file"]).exists()

    # the skeleton is drawn on the person: joint dots in the form colours where the pose puts them
    on_person = 0
    for r in exercise:
        if not r.get("joints_px"):
            continue
        image = cv2.imread(str(shots / r["file"]))
        for joint in (23, 24, 25, 26):
            x, y = (round(v) for v in r["joints_px"][joint])
            if 0 <= x < image.shape[1] and 0 <= y < image.shape[0]:
                pixel = image[y, x].astype(int)
                on_person += min(np.abs(pixel - GOOD).sum(), np.abs(pixel - WARN).sum()) < 60
    assert on_person >= 20, f"joint dots found at only {on_person} of the expected positions"

    # the count on screen is the engine's count, and the session is in the store with its reps
    shown_count = exercise[-1]["reps"]
    for r in exercise:  # what the HUD showed is what the engine had counted at that frame
        if r["engine_reps"] is not None:
            assert r["reps"] == r["engine_reps"], r["file"]
    con = sqlite3.connect(db)
    status, frames, with_person = con.execute("select status, frames, frames_with_person from sessions").fetchone()
    stored_reps = con.execute("select count(*) from reps").fetchone()[0]
    sets = con.execute("select exercise, status from exercise_sets").fetchall()
    con.close()
    assert status == "completed"
    assert shown_count == stored_reps
    assert shown_count == 2, "samples/squat_side.mp4 shows 2 squats (samples/README.md)"
    # paced in real time, late frames are dropped, never repeated: at most the clip's frames are analysed
    clip_frames = int(cv2.VideoCapture(str(CLIP)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert len(exercise) <= frames <= clip_frames and with_person >= 0.9 * frames
    assert sets and sets[0][0] == "squat"
    assert f"{stored_reps}/" in out  # the command's closing line agrees


def test_video_that_stops_mid_session_keeps_the_session(tmp_path):
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    cap = cv2.VideoCapture(str(CLIP))
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 30, (304, 540))
    for _ in range(150):
        ok, image = cap.read()
        assert ok
        writer.write(cv2.resize(image, (304, 540)))
    writer.release()
    cap.release()
    cut = tmp_path / "cut.avi"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the recording stops half way (unplugged camera, crashed recorder)
    db = tmp_path / "cut.db"
    env = {**os.environ, "FORMCHECK_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run(
        [*FORMCHECK, "live", "--source", str(cut), "--exercise", "squat", "--intro", "0", "--no-window",
         "--db", f"sqlite:///{db}", "--mute", "--save-landmarks"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Traceback" not in out
    assert "truncated" in out and "saved (interrupted)" in out
    con = sqlite3.connect(db)
    status, frames, landmarks = con.execute("select status, frames, landmarks_file from sessions").fetchone()
    set_status = con.execute("select status from exercise_sets").fetchone()[0]
    con.close()
    assert status == "interrupted" and 40 <= frames < 150
    assert set_status == "stopped"
    assert landmarks and (tmp_path / "data" / "landmarks" / landmarks).exists()


class StallingCamera(FrameSource):
    """A live source that delivers some real frames, stalls, then stops like an unplugged camera."""

    live = True
    name = "camera 9"

    def __iter__(self):
        cap = cv2.VideoCapture(str(CLIP))
        start = time.monotonic()
        for index in range(45):
            ok, image = cap.read()
            assert ok
            time.sleep(1 / 30)
            yield Frame(image, time.monotonic() - start, index)
        cap.release()
        time.sleep(0.6)  # no frames for a while, then the driver gives up
        self.interrupted = "camera 9 stopped delivering frames"


def test_camera_that_stops_keeps_the_session(tmp_path):
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    from formcheck.live.app import LiveOptions, run_live

    camera = StallingCamera()
    lines: list[str] = []
    result = run_live(
        LiveOptions(source=camera, exercise="squat", intro_s=0, show_window=False, mute=True,
                    db_url=f"sqlite:///{tmp_path / 'cam.db'}"),
        log=lines.append,
    )
    assert result.status == "interrupted"
    assert any("camera 9 stopped delivering frames" in line and "saved" in line for line in lines)
    assert 0 < result.frames_shown <= result.report["frames"] <= 45
    assert result.report["notices"] == ["camera 9 stopped delivering frames"]
    con = sqlite3.connect(tmp_path / "cam.db")
    assert con.execute("select status, frames from sessions").fetchone() == ("interrupted", result.report["frames"])
    con.close()


def test_programme_with_pain_stop_is_recorded(tmp_path):
    """The whole command on a programme: skip the warm-ups, start a set, pain stop with a rating and a place."""
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    db = tmp_path / "prog.db"
    run = subprocess.run(
        [*FORMCHECK, "live", "--source", str(CLIP), "--program", "initial", "--intro", "0.5", "--no-window",
         "--mute", "--db", f"sqlite:///{db}", "--auto-keys", "1:n,2:n,4:p,4.5:7,5:enter,5.5:1,6:enter"],
        cwd=REPO, env={**os.environ, "FORMCHECK_DATA_DIR": str(tmp_path / "data")}, capture_output=True, text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "pain reported 7/10" in out
    con = sqlite3.connect(db)
    sid, status, programme = con.execute("select id, status, programme from sessions").fetchone()
    sets = con.execute("select exercise, status from exercise_sets order by id").fetchall()
    pain = con.execute("select rating, location, set_id from pain_reports").fetchall()
    con.close()
    assert (status, programme) == ("completed", "initial")
    assert sets == [("knee_to_chest", "skipped"), ("hamstring_stretch", "skipped"), ("ankle_pump", "stopped")]
    assert pain == [(7, "lower back", None)]
    from formcheck.storage.database import Store
    from formcheck.storage.results import stored_summary

    store = Store(f"sqlite:///{db}")
    summary = stored_summary(store.get_session(sid), store.load_result(sid))
    store.close()
    assert summary["ended_by"] == "pain" and summary["programme"].startswith("Initial")
    assert summary["max_pain"] == 7 and [r["exercise"] for r in summary["exercises"]][:3] == [
        "knee_to_chest", "hamstring_stretch", "ankle_pump"]


def test_keys_typed_into_the_window(xvfb, tmp_path):
    """Real key presses (XTEST through xdotool): enter starts now, p stops for pain, the answers are recorded."""
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    shots, db = tmp_path / "shots", tmp_path / "keys.db"
    env = {**os.environ, "DISPLAY": xvfb, "FORMCHECK_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "xcb"}
    proc = subprocess.Popen(
        [*FORMCHECK, "live", "--source", str(CLIP), "--realtime", "--exercise", "squat", "--intro", "60",
         "--summary-seconds", "60", "--screenshot-dir", str(shots), "--db", f"sqlite:///{db}", "--mute"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        window = ""
        deadline = time.monotonic() + 60
        while not window and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
            found = subprocess.run(["xdotool", "search", "--name", "formcheck live"], env=env, capture_output=True,
                                   text=True)
            window = found.stdout.split()[0] if found.stdout.split() else ""
        assert window, "the preview window never appeared"
        while not list(shots.glob("*.png")) and time.monotonic() < deadline:
            time.sleep(0.2)  # the first frame is on screen
        subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True, timeout=10)
        for key in ("Return", "p", "6", "Return", "3", "Return", "q"):
            time.sleep(1.0)
            subprocess.run(["xdotool", "key", key], env=env, check=True, timeout=10)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    phases = [json.loads(line)["phase"] for line in (shots / "hud.jsonl").read_text().splitlines()]
    assert phases.index("exercise") < phases.index("pain_rating") < phases.index("summary")
    assert "howto" in phases and len(phases) < 40, "enter started the set long before the 60 s how-to ended"
    con = sqlite3.connect(db)
    assert con.execute("select rating, location from pain_reports").fetchall() == [(6, "hip or buttock")]
    assert con.execute("select status from exercise_sets").fetchall() == [("stopped",)]
    con.close()


def close_window(display: str, window: int) -> None:
    """Ask a window to close, as a window manager's close button does (WM_DELETE_WINDOW), through libX11."""

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(XEvent)]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    conn = x11.XOpenDisplay(display.encode())
    assert conn, f"cannot open {display}"
    event = XEvent()
    event.xclient.type = 33  # ClientMessage
    event.xclient.window = window
    event.xclient.message_type = x11.XInternAtom(conn, b"WM_PROTOCOLS", 0)
    event.xclient.format = 32
    event.xclient.data[0] = x11.XInternAtom(conn, b"WM_DELETE_WINDOW", 0)
    x11.XSendEvent(conn, window, 0, 0, ctypes.byref(event))
    x11.XFlush(conn)
    x11.XCloseDisplay(conn)


def test_closing_the_window_keeps_the_session(xvfb, tmp_path):
    if not _models_ready():
        pytest.skip("pose models are not built (formcheck models build)")
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    shots, db = tmp_path / "shots", tmp_path / "close.db"
    env = {**os.environ, "DISPLAY": xvfb, "FORMCHECK_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "xcb"}
    proc = subprocess.Popen(
        [*FORMCHECK, "live", "--source", str(CLIP), "--realtime", "--exercise", "squat", "--intro", "0",
         "--screenshot-dir", str(shots), "--db", f"sqlite:///{db}", "--mute"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(shots.glob("*.png"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        found = subprocess.run(["xdotool", "search", "--name", "formcheck live"], env=env, capture_output=True,
                               text=True)
        assert found.stdout.split(), "the preview window never appeared"
        for window in found.stdout.split():
            close_window(xvfb, int(window))
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "saved (completed)" in out
    con = sqlite3.connect(db)
    status, frames = con.execute("select status, frames from sessions").fetchone()
    sets = con.execute("select status from exercise_sets").fetchall()
    con.close()
    assert status == "completed" and 0 < frames < 300, "closed long before the 20 s clip ended"
    assert sets == [("stopped",)]
