"""Form rules and repetition scores."""

import pytest

from formcheck.engine.counter import Rep
from formcheck.engine.rules import RuleState
from formcheck.engine.scoring import score_rep
from formcheck.engine.spec import RepSpec, RuleSpec


def rule(**kw) -> RuleState:
    base = dict(id="r", message="m", signal="s", min=150.0, min_duration_s=0.3)
    return RuleState(RuleSpec(**{**base, **kw}))


def test_keep_rule_faults_after_its_duration_once():
    r = rule()
    fired = [r.update(i / 10, v) for i, v in enumerate([170, 140, 140, 140, 140, 140, 170, 140, 140, 140, 140])]
    assert fired.count(True) == 1 and fired.index(True) == 4  # out of range for 0.3 s
    assert r.faulted


def test_keep_rule_ignores_short_glitches_and_tracks_broken_now():
    r = rule()
    for i, v in enumerate([170, 140, 140, 170, 140, 170]):
        assert not r.update(i / 10, v)
    assert not r.faulted and not r.broken
    for i in range(10):
        r.update(1 + i / 10, 100)
    assert r.broken
    r.update(2.5, 170)
    assert not r.broken and r.faulted  # the record of the repetition keeps the fault


def test_reach_rule_judges_the_best_value():
    deep = rule(check="reach", max=100.0, min=None)
    for v in [170, 130, 95, 130, 170]:
        deep.update(0, v)
    assert not deep.close() and deep.best == 95
    shallow = rule(check="reach", max=100.0, min=None)
    for v in [170, 130, 110, 130, 170]:
        shallow.update(0, v)
    assert shallow.close() and shallow.faulted


def test_score_parts_explain_the_score():
    spec = RepSpec(signal="knee", rest=150, target=100, tempo_s=(1.0, 4.0))
    rep = Rep(0.0, 2.0, 175.0, 90.0, 1.0, True)
    bad = RuleSpec(id="lean", message="keep your chest up", signal="trunk", max=40.0, severity="warning")
    score, parts = score_rep(rep, spec, [bad], unit="°")
    assert parts["range_of_motion"]["points"] == 40 and parts["control"]["points"] == 20
    assert parts["form"] == {"points": 20.0, "of": 40.0, "note": "keep your chest up"}
    assert score == pytest.approx(80)
    fast = Rep(0.0, 0.5, 175.0, 120.0, 0.2, True)
    score, parts = score_rep(fast, spec, [])
    assert parts["control"]["points"] == pytest.approx(10) and "too fast" in parts["control"]["note"]
    assert parts["range_of_motion"]["points"] == pytest.approx(40 * 30 / 50)
