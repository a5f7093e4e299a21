"""The live session flow (how-to, sets, rests, pause, redo, next, pain stop, summary), the HUD drawing, the
frame dropping reader, spoken cues and the recording of events as they happen. Fast: synthetic poses and events."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from formcheck.coaching.flow import Phase, SessionFlow
from formcheck.coaching.plan import PlanItem
from formcheck.coaching.session import CoachedSession
from formcheck.coaching.view import CLINICIAN_ADVICE, PAIN_LOCATIONS
from formcheck.core.events import FormWarning, HoldProgress, PainReported, RepCompleted, StateChanged
from formcheck.core.result import Recognition
from formcheck.engine.state import EngineState
from formcheck.io.sources import Frame, FrameSource
from formcheck.live.frames import LatestFrameReader
from formcheck.live.hud import render
from formcheck.live.options import LiveError, parse_auto_keys
from formcheck.pose.types import Pose


def person(t: float, x: float = 0.5) -> Pose:
    lms = np.zeros((33, 5), np.float32)
    lms[:, 0], lms[:, 1], lms[:, 3], lms[:, 4] = x, np.linspace(0.1, 0.9, 33), 1.0, 1.0
    return Pose(lms, np.zeros((33, 3), np.float32), t, (640, 480), 1)


class ScriptedAnalyzer:
    """Emits the events queued for it on the next update (what the engine would emit)."""

    def __init__(self, exercise: str):
        self.exercise = exercise
        self.queued: list = []
        self.updates = 0
        self.resets = 0
        self.finished: list[float] = []

    def update(self, pose):
        self.updates += 1
        out, self.queued = self.queued, []
        return out

    def finish(self, t):
        self.finished.append(t)
        return []

    def reset(self):
        self.resets += 1

    def current_state(self):
        return EngineState(self.exercise, "active", warning_joints={"knees_in": (23, 25)}, last_warning="knees_in")

    def series(self):
        return {"t": [0.0, 0.1], "knee": [170, 160], "target_band": {"knee": [90, 170]}}

    def summary(self):
        return {"reps": 0, "holds": 0}

    def recognition(self):
        return Recognition(self.exercise, 1.0)


class ListRecorder:
    def __init__(self):
        self.calls: list[tuple] = []

    def start_set(self, exercise, set_index=1, target_reps=None, target_hold_s=None, started_s=0.0):
        self.calls.append(("start", exercise, set_index, target_reps, target_hold_s))

    def end_set(self, ended_s, status="done"):
        self.calls.append(("end", status))

    def record(self, events):
        self.calls.append(("events", [e.type for e in events]))

    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]


PLAN = [
    PlanItem("knee_to_chest", "Knee to chest", kind="hold", hold_s=3, rest_s=2, warmup=True),
    PlanItem("squat", "Squat", sets=2, reps=2, rest_s=5),
    PlanItem("glute_bridge", "Glute bridge", reps=3),
]


class Driver:
    """Feeds 10 frames per second of synthetic poses through the session's frame loop."""

    def __init__(self, plan=PLAN, intro_s=2.0, **kw):
        self.analyzers: dict[str, ScriptedAnalyzer] = {}
        self.recorder = ListRecorder()
        self.spoken: list[str] = []
        self.beeps = 0
        self.flow = SessionFlow(plan, self._factory, self.recorder, intro_s=intro_s, say=self.spoken.append,
                                beep=self._beep, **kw)
        self.session = CoachedSession(self.flow)
        self.t = 0.0

    def _factory(self, ex):
        return self.analyzers.setdefault(ex, ScriptedAnalyzer(ex))

    def _beep(self):
        self.beeps += 1

    def frames(self, seconds: float):
        for _ in range(round(seconds * 10)):
            self.session.step(None, person(self.t))
            self.t = round(self.t + 0.1, 3)

    def emit(self, *events):
        self.flow.analyzer.queued.extend(events)
        self.frames(0.1)

    def rep(self, index=1, score=90.0):
        self.emit(RepCompleted(self.t, index, self.t - 1, self.t, 80.0, 1.0, score))

    def key(self, k):
        self.session.key(k, self.t)


def test_programme_runs_howto_sets_rests_and_summary():
    d = Driver()
    d.frames(0.5)
    view = d.flow.view()
    assert view.phase == "howto" and view.warmup and view.name == "Knee to chest"
    assert 1.4 <= view.timer_s <= 1.6
    assert "knee_to_chest" not in d.analyzers or d.analyzers["knee_to_chest"].updates == 0, "no counting in how-to"
    d.frames(1.6)
    assert d.flow.phase == Phase.EXERCISE and d.beeps >= 2  # countdown beeps in the last seconds
    d.emit(HoldProgress(d.t, 1.0, 30.0))
    assert d.flow.view().hold_s == 1.0 and d.flow.phase == Phase.EXERCISE
    d.emit(HoldProgress(d.t, 3.1, 30.0))  # the programme's 3 s target, not the spec's 30 s
    assert d.flow.phase == Phase.REST and d.analyzers["knee_to_chest"].finished
    assert d.flow.view().next_name == "Squat"
    d.frames(2.1)
    assert d.flow.phase == Phase.HOWTO and d.flow.item.exercise == "squat"
    d.key("enter")  # start now
    assert d.flow.phase == Phase.EXERCISE
    d.rep(1)
    view = d.flow.view()
    assert (view.reps, view.target_reps, view.set_index, view.sets) == (1, 2, 1, 2)
    d.rep(2)
    assert d.flow.phase == Phase.REST and d.flow.view().next_name == "Squat, set 2 of 2"
    d.frames(5.1)
    assert d.flow.phase == Phase.EXERCISE and d.flow.view().set_index == 2 and d.flow.view().reps == 0
    d.rep(1)
    d.rep(2)
    d.frames(5.1)
    assert d.flow.item.exercise == "glute_bridge" and d.flow.phase == Phase.HOWTO
    d.frames(2.1)
    for i in (1, 2, 3):
        d.rep(i, score=70.0)
    assert d.flow.phase == Phase.SUMMARY and d.flow.ended_by == "completed"
    starts = d.recorder.of("start")
    assert [(c[1], c[2]) for c in starts] == [("knee_to_chest", 1), ("squat", 1), ("squat", 2), ("glute_bridge", 1)]
    assert starts[1][3] == 2 and starts[0][4] == 3
    assert [c[1] for c in d.recorder.of("end")] == ["done"] * 4
    rows = {r["exercise"]: r for r in d.flow.view().summary}
    assert rows["squat"]["reps"] == 4 and rows["squat"]["target_reps"] == 4 and rows["squat"]["sets_done"] == 2
    assert rows["glute_bridge"]["avg_score"] == 70.0
    d.session.finish()
    report = d.session.report_dict()
    assert report["rep_count"] == 7 and report["summary"]["ended_by"] == "completed"
    assert [r["exercise"] for r in report["reps"]] == ["squat"] * 4 + ["glute_bridge"] * 3
    assert set(report["series"]) == {"knee_to_chest", "squat", "glute_bridge"}
    assert report["series"]["squat"]["t"] == [0.0, 0.1, 0.0, 0.1], "the series of both squat sets"
    assert d.analyzers["squat"].resets == 2, "each set starts a fresh count"
    assert "3" in d.spoken and any("Rest" in s for s in d.spoken)
    d.key("q")
    assert d.flow.phase == Phase.DONE


def test_pause_freezes_timers_and_counting():
    d = Driver(plan=[PlanItem("squat", "Squat", reps=5, sets=2, rest_s=4)], intro_s=2)
    d.frames(1.0)
    d.key("space")
    d.frames(5.0)
    view = d.flow.view()
    assert view.paused and view.phase == "howto" and abs(view.timer_s - 1.0) < 0.11
    d.key("space")
    d.frames(1.1)
    assert d.flow.phase == Phase.EXERCISE
    d.key("space")
    updates = d.analyzers["squat"].updates
    d.frames(1.0)
    assert d.analyzers["squat"].updates == updates, "a paused set is not analysed"
    d.key("space")
    d.frames(0.2)
    assert d.analyzers["squat"].updates > updates


def test_redo_set_and_next_exercise():
    d = Driver(intro_s=0)
    d.key("n")  # skip the warm-up
    assert d.flow.item.exercise == "squat" and d.flow.phase == Phase.EXERCISE
    d.rep(1, score=20)
    d.key("r")
    view = d.flow.view()
    assert view.reps == 0 and view.set_index == 1 and view.phase == "exercise"
    assert [c[1] for c in d.recorder.of("end")] == ["skipped", "redone"]
    assert d.recorder.of("start")[-1][1:3] == ("squat", 1)
    assert d.flow.tallies["squat"].reps == 0 and d.flow.tallies["squat"].scores == []
    d.key("n")
    assert d.flow.item.exercise == "glute_bridge"
    d.key("n")
    assert d.flow.phase == Phase.SUMMARY


def test_pain_stop_records_rating_and_location_then_advises_a_clinician():
    d = Driver(intro_s=0)
    d.key("n")
    d.rep(1)
    d.key("p")
    assert d.flow.phase == Phase.PAIN_RATING and d.recorder.calls[-1] == ("end", "stopped")
    updates = d.analyzers["squat"].updates
    d.frames(1.0)
    assert d.analyzers["squat"].updates == updates, "stops at once"
    d.key("enter")  # no rating yet: stays
    assert d.flow.phase == Phase.PAIN_RATING
    d.key("9")
    d.key("+")
    d.key("+")
    assert d.flow.view().pain_rating == 10
    d.key("-")
    d.key("enter")
    assert d.flow.phase == Phase.PAIN_LOCATION
    d.key("7")  # not an option
    assert d.flow.phase == Phase.PAIN_LOCATION
    d.key("1")
    view = d.flow.view()
    assert view.phase == "pain_advice" and view.advice == CLINICIAN_ADVICE and "clinician" in view.advice
    assert d.recorder.calls[-1] == ("events", ["pain"])
    pain = d.session.result.pain[0]
    assert d.session.result.events[-1].exercise == "squat"
    assert (pain.rating, pain.location) == (9, PAIN_LOCATIONS[0])
    d.key("enter")
    view = d.flow.view()
    assert view.phase == "summary" and view.ended_by == "pain"
    assert {r["exercise"]: r for r in view.summary}["squat"]["pain"] == [9]


def test_quit_and_source_end_keep_what_was_done():
    d = Driver(intro_s=0)
    d.key("n")
    d.rep(1)
    d.session.source_ended(d.t, "camera 0 stopped delivering frames")
    view = d.flow.view()
    assert view.phase == "summary" and view.ended_by == "interrupted" and "camera 0" in view.notice
    assert d.recorder.calls[-1] == ("end", "stopped")
    d.session.finish()
    assert d.session.report_dict()["notices"] == ["camera 0 stopped delivering frames"]

    d2 = Driver(intro_s=0)
    d2.key("q")
    assert d2.flow.phase == Phase.SUMMARY and d2.flow.ended_by == "quit"


def test_cues_messages_and_flagged_joints_reach_the_view():
    d = Driver(plan=[PlanItem("squat", "Squat", reps=10)], intro_s=0)
    d.emit(StateChanged(d.t, "get_into_position", "turn sideways"))
    d.emit(FormWarning(d.t, "knees_in", "keep your knees over your toes"))
    view = d.flow.view()
    assert view.cue == "keep your knees over your toes"
    assert view.flagged_joints == frozenset({25, 23})
    d.frames(3.5)
    assert d.flow.view().cue == "", "a cue shows for a few seconds"
    d.session.step(None, Pose.empty(d.t, (640, 480)))
    assert d.flow.view().message == "Step into view"


@pytest.mark.parametrize("size", [(640, 480), (1280, 720)])
def test_hud_draws_every_phase_and_the_skeleton_on_the_person(size):
    d = Driver(intro_s=1)
    image = np.full((480, 640, 3), 90, np.uint8)
    pose = person(0.0, x=0.25)
    seen = set()
    for step in ["", "enter", "", "n", "", "p", "5", "enter", "2", "enter"]:
        if step:
            d.key(step)
        d.frames(0.1)
        view = d.flow.view()
        canvas, pts = render(image, pose, view, size=size, mirror=True, fps=29.7, model="full")
        assert canvas.shape == (size[1], size[0], 3)
        seen.add(view.phase)
        if view.phase == "exercise":
            # mirrored: x = 0.25 of the image is drawn at 0.75 of the (letterboxed) picture
            s = min(size[0] / 640, size[1] / 480)
            ox = (size[0] - 640 * s) / 2
            assert pts[11, 0] == pytest.approx(ox + 0.75 * 640 * s, abs=1)
            x, y = np.round(pts[23]).astype(int)  # left hip: a joint drawn green (good form)
            b, g, r = canvas[y, x]
            assert g > 150 and r < 120
    assert {"howto", "exercise", "pain_rating", "pain_location", "pain_advice", "summary"} <= seen
    hold = SessionFlow([PlanItem("plank", "Plank", kind="hold", hold_s=30)], ScriptedAnalyzer, intro_s=0)
    hold.update(person(0.0))
    canvas, _ = render(image, None, hold.view(), size=size)
    assert canvas.shape == (size[1], size[0], 3)


def test_events_are_in_the_store_as_soon_as_they_happen(tmp_path):
    from formcheck.storage.database import Rep, SessionRecorder, Store

    store = Store(f"sqlite:///{tmp_path / 'live.db'}")
    sid = store.start_session(kind="live", title="Squat")
    recorder = SessionRecorder(store, sid)
    analyzers = {}
    flow = SessionFlow([PlanItem("squat", "Squat", reps=3)], lambda ex: analyzers.setdefault(ex, ScriptedAnalyzer(ex)),
                       recorder, intro_s=0)
    flow.update(person(0.0))
    analyzers["squat"].queued.append(RepCompleted(1.0, 1, 0.2, 1.0, 80.0, 0.8, 88.0))
    flow.update(person(1.0))
    recorder.flush()
    with store.session() as db:  # before the session ends: a crash now would keep this rep
        reps = db.query(Rep).filter_by(session_id=sid).all()
        assert [(r.index, r.score, r.exercise) for r in reps] == [(1, 88.0, "squat")]
        assert reps[0].set_id is not None
    flow.key("p", 1.5)
    flow.key("4", 1.6)
    flow.key("enter", 1.7)
    flow.key("3", 1.8)
    recorder.close()
    session = store.get_session(sid)
    with store.session() as db:
        from formcheck.storage.database import ExerciseSet, PainReport

        pain = db.query(PainReport).filter_by(session_id=sid).one()
        assert (pain.rating, pain.location) == (4, PAIN_LOCATIONS[2])
        assert [s.status for s in db.query(ExerciseSet).filter_by(session_id=sid)] == ["stopped"]
    assert session is not None
    store.close()


class FastSource(FrameSource):
    live = True

    def __init__(self, n: int):
        self.n = n
        self.fps = 1000.0

    def __iter__(self):
        img = np.zeros((4, 4, 3), np.uint8)
        for i in range(self.n):
            time.sleep(0.001)
            yield Frame(img, i / 1000, i)


def test_latest_frame_reader_drops_frames_instead_of_lagging():
    reader = LatestFrameReader(FastSource(300))
    got = []
    for frame in reader.frames():
        got.append(frame.index)
        time.sleep(0.02)  # a slow consumer
    reader.close()
    assert got == sorted(got) and got[-1] == 299
    assert reader.dropped > 100 and len(got) + reader.dropped == 300


def test_auto_keys_parse_and_reject_bad_input():
    assert parse_auto_keys("5:n, 12.5:SPACE,13:7") == [(5.0, "n"), (12.5, "space"), (13.0, "7")]
    assert parse_auto_keys("") == []
    for bad in ("n", "x:n", "5:", "-1:q"):
        with pytest.raises(LiveError, match="SECONDS:KEY"):
            parse_auto_keys(bad)


def test_speaker_speaks_in_the_background_and_mute_silences(tmp_path):
    """say() returns before the speech is spoken: the speech engine here waits for a gate that the test opens
    only after say() has returned, so a blocking say() would write "ungated"."""
    from formcheck.coaching.speech import Speaker

    out, gate = tmp_path / "said.txt", tmp_path / "gate"
    script = ("import os, sys, time\n"
              f"deadline = time.time() + 10\n"
              f"while not os.path.exists({str(gate)!r}) and time.time() < deadline: time.sleep(0.01)\n"
              f"word = 'gated' if os.path.exists({str(gate)!r}) else 'ungated'\n"
              f"open({str(out)!r}, 'a').write(sys.argv[1] + ' ' + word + '\\n')\n")
    speaker = Speaker(engine=[sys.executable, "-c", script], beeps=False)
    speaker.say("Rest 30 seconds")
    assert not out.exists(), "nothing is spoken before the gate opens"
    gate.touch()
    deadline = time.monotonic() + 20  # a wait for the background thread, not a speed limit
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    speaker.close()
    assert out.read_text() == "Rest 30 seconds gated\n"
    muted = Speaker(engine=[sys.executable, "-c", script], beeps=False)
    assert muted.toggle_mute() is True
    muted.say("not said")
    muted.close()
    assert out.read_text() == "Rest 30 seconds gated\n"


def test_no_display_is_a_clear_error(monkeypatch):
    from formcheck.live.display import check_display

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check applies to Linux")
    with pytest.raises(LiveError, match="no display"):
        check_display()


def test_pain_event_type():
    assert PainReported(1.0, 3, "lower back").to_dict()["type"] == "pain"


def test_plans_from_the_catalog_and_programmes():
    from formcheck.live.plan import build_plan

    title, programme, plan = build_plan(None, "initial")
    assert programme == "initial" and plan[0].warmup and plan[0].kind == "hold" and plan[0].hold_s >= 20
    assert all(item.instructions and item.name for item in plan)
    title, programme, plan = build_plan("plank", None)
    (item,) = plan
    assert programme is None and item.kind == "hold" and item.reps is None and item.hold_s and item.sets >= 1
    with pytest.raises(LiveError, match="unknown exercise 'no_such'"):
        build_plan("no_such", None)
    with pytest.raises(LiveError, match="Unknown programme 'expert'"):
        build_plan(None, "expert")
    with pytest.raises(LiveError, match="choose an exercise"):
        build_plan(None, None)


def test_unusable_database_is_a_clear_error(tmp_path):
    from formcheck.live.recording import open_store

    with pytest.raises(LiveError, match="not a database URL"):
        open_store("nonsense")
    with pytest.raises(LiveError, match="cannot open the database"):
        open_store(f"sqlite:///{tmp_path}/missing/dir/x.db")
    store = open_store(f"sqlite:///{tmp_path}/ok.db")
    store.close()


def test_a_hold_within_a_repetition_shows_its_own_target_and_ends_with_the_rep():
    d = Driver(plan=[PlanItem("straight_leg_raise", "Straight leg raise", reps=5)], intro_s=0)
    d.emit(HoldProgress(d.t, 1.5, 3.0))
    view = d.flow.view()
    assert (view.hold_s, view.hold_target_s, view.reps) == (1.5, 3.0, 0)
    d.rep(1)
    view = d.flow.view()
    assert view.reps == 1 and view.hold_s == 0.0 and d.flow.phase == Phase.EXERCISE


def test_unreachable_display_is_a_clear_error(monkeypatch):
    from formcheck.live.display import check_display, x_display_reachable

    if not sys.platform.startswith("linux"):
        pytest.skip("the display check applies to Linux")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":987")  # no X server listens there
    if x_display_reachable():
        pytest.skip("libX11 is not installed, the check is left to the GUI toolkit")
    with pytest.raises(LiveError, match="cannot connect to the display :987"):
        check_display()


def test_the_closing_line_says_when_nobody_was_seen():
    from formcheck.live.app import one_line_summary

    rows = [{"name": "Squat", "reps": 0, "target_reps": 10, "holds_s": []}]
    empty = {"summary": {"exercises": rows}, "frames": 300, "frames_with_person": 0}
    assert one_line_summary(empty) == "Squat 0/10 reps; nobody was seen: make sure the whole body is in view"
    seen = {**empty, "frames_with_person": 250}
    assert one_line_summary(seen) == "Squat 0/10 reps"
