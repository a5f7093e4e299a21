"""The engine reports every warning; only the cue on screen is throttled. A guided session over synthetic squats
with the chest dropping on every repetition: each repetition's warning is stored, far fewer are shown."""

from __future__ import annotations

from synthetic_poses import reps_trace, standing

from formcheck.coaching.flow import SessionFlow
from formcheck.coaching.plan import plan_item
from formcheck.coaching.session import CoachedSession
from formcheck.core.events import FormWarning
from formcheck.engine import create_analyzer
from formcheck.storage.database import SessionRecorder, Store, Warning_

FPS = 30.0


def leaning_squats(n: int, lean: float = 60.0):
    knees = reps_trace(175, 80, n)
    return [standing(i / FPS, k, trunk_lean=lean * (175 - k) / 95) for i, k in enumerate(knees)]


def test_every_warning_is_stored_even_when_the_display_throttled_it(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'live.db'}")
    sid = store.start_session(kind="live", title="Squat")
    recorder = SessionRecorder(store, sid)
    flow = SessionFlow([plan_item("squat", reps=20)], create_analyzer, recorder, intro_s=0)
    session = CoachedSession(flow, model="full", source="synthetic")
    raised, shown = [], []
    for pose in leaning_squats(6):
        out = session.step(None, pose)
        raised += [e for e in out.events if isinstance(e, FormWarning)]
        cue = flow.cues.current(pose.timestamp)
        if cue is not None and (not shown or shown[-1] is not cue):
            shown.append(cue)
    result = session.finish()
    recorder.close()
    store.finish_session(sid, result=session.report_dict())

    chest = [w for w in raised if w.rule == "chest_down"]
    assert len(chest) == 6, "one warning per leaning repetition"
    assert 1 <= len(shown) < len(raised), "the display shows a calm few"
    assert shown[0].joints, "the shown cue highlights the joints of its rule"
    assert [w.rule for w in result.warnings] == [w.rule for w in raised]
    assert {x.exercise for x in result.events} == {"squat"}
    with store.session() as db:
        rows = db.query(Warning_).filter_by(session_id=sid).order_by(Warning_.t_s).all()
        assert [(round(r.t_s, 3), r.rule) for r in rows] == [(round(w.t, 3), w.rule) for w in raised]
    stored = store.load_result(sid)
    assert len(stored.warnings) == len(raised) and stored.rep_count == 6
    assert flow.tallies["squat"].warnings == len(raised)
    store.close()
