"""Adherence for the therapist's list: planned sessions follow the programme's schedule (5 a week) over the last
7 days, or over the days since the account was made; done beyond planned reads sensibly, capped at 100%."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from formcheck.storage.database import ExerciseSession, Store, User
from server.services.progress import overview

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'p.db'}")
    yield s
    s.close()


def _patient(store: Store, age: timedelta, sessions_ago: list[timedelta]) -> int:
    with store.session() as db, db.begin():
        user = User(username="pat", password_hash="x", role="patient", created_at=NOW - age)
        db.add(user)
        db.flush()
        pid = user.id
    for ago in sessions_ago:
        sid = store.start_session(kind="live", title="squat", patient_id=pid)
        store.finish_session(sid)
        with store.session() as db, db.begin():
            db.get(ExerciseSession, sid).started_at = NOW - ago
    return pid


def _overview(store: Store, pid: int) -> dict:
    with store.session() as db:
        return overview(db, db.get(User, pid), now=NOW)


def test_brand_new_patient_ahead_of_plan_is_not_three_of_one(store):
    pid = _patient(store, timedelta(hours=2), [timedelta(minutes=m) for m in (90, 60, 10)])
    o = _overview(store, pid)
    assert (o["sessions_done"], o["sessions_planned"], o["adherence"]) == (3, 1, 1.0)
    assert o["adherence_text"] == "3 sessions since joining today, 1 planned (100%)"


def test_patient_of_a_few_days_is_planned_for_those_days(store):
    pid = _patient(store, timedelta(days=2, hours=3), [timedelta(days=1)])
    o = _overview(store, pid)
    assert (o["sessions_done"], o["sessions_planned"], o["adherence"]) == (1, 2, 0.5)
    assert o["adherence_text"] == "1 of 2 planned sessions since joining 3 days ago (50%)"


def test_established_patient_counts_the_last_seven_days(store):
    ago = [timedelta(days=d) for d in (0.5, 2, 4, 6, 8, 12)]  # the last two are older than a week
    pid = _patient(store, timedelta(days=40), ago)
    o = _overview(store, pid)
    assert (o["sessions_done"], o["sessions_planned"], o["adherence"]) == (4, 5, 0.8)
    assert o["adherence_text"] == "4 of 5 planned sessions in the last 7 days (80%)"


def test_nothing_done_yet(store):
    pid = _patient(store, timedelta(minutes=5), [])
    o = _overview(store, pid)
    assert o["adherence"] == 0 and o["adherence_text"] == "0 of 1 planned session since joining today (0%)"
