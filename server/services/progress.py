"""A patient's progress: adherence and flags for the therapist's list, weekly trends, level-up suggestion."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from formcheck.storage.database import ExerciseSession, LevelChange, User

LEVELS = ("initial", "intermediate", "advanced")
PLANNED_PER_WEEK = 5  # sessions a week a programme asks for
SUGGEST_AFTER_SESSIONS = 3  # sessions in a row that met targets with good form
GOOD_FORM_SCORE = 70.0
DONE = ("completed", "interrupted")


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def patient_sessions(db: Session, patient_id: int) -> list[ExerciseSession]:
    query = (
        select(ExerciseSession)
        .where(ExerciseSession.patient_id == patient_id)
        .options(
            selectinload(ExerciseSession.reps),
            selectinload(ExerciseSession.holds),
            selectinload(ExerciseSession.sets),
            selectinload(ExerciseSession.pain_reports),
        )
        .order_by(ExerciseSession.started_at)
    )
    return list(db.scalars(query))


def _avg_score(s: ExerciseSession) -> float | None:
    return sum(r.score for r in s.reps) / len(s.reps) if s.reps else None


def planned_sessions(patient: User, now: datetime) -> tuple[int, int]:
    """(sessions the programme's schedule asks for in the last 7 days, days counted): a week, or the days since
    the account was made when that is less (today counts as one day)."""
    days = min(7, max(1, math.ceil((now - _aware(patient.created_at)).total_seconds() / 86400)))
    return max(1, round(PLANNED_PER_WEEK * days / 7)), days


def adherence_text(done: int, planned: int, days: int) -> str:
    """What a therapist reads: done vs planned over the period, the percentage capped at 100%."""
    period = "in the last 7 days" if days >= 7 else ("since joining today" if days == 1 else
                                                     f"since joining {days} days ago")
    pct = round(100 * min(1.0, done / planned))
    noun = "session" if planned == 1 else "sessions"
    if done > planned:
        return f"{done} sessions {period}, {planned} planned ({pct}%)"
    return f"{done} of {planned} planned {noun} {period} ({pct}%)"


def overview(db: Session, patient: User, now: datetime | None = None) -> dict:
    """last_session_at, sessions_done / planned over the last 7 days (or since the account was made), adherence
    (capped at 1) and its text, and flags."""
    now = now or datetime.now(UTC)
    sessions = [s for s in patient_sessions(db, patient.id) if s.status in DONE]
    week_ago = now - timedelta(days=7)
    done = sum(1 for s in sessions if _aware(s.started_at) >= week_ago)
    planned, days = planned_sessions(patient, now)
    flags = []
    if any(p for s in sessions if _aware(s.started_at) >= now - timedelta(days=14) for p in s.pain_reports):
        flags.append("pain")
    scores = [a for a in (_avg_score(s) for s in sessions) if a is not None]
    if len(scores) >= 4:
        recent, before = scores[-2:], scores[-4:-2]
        if sum(recent) / 2 < sum(before) / 2 - 10:
            flags.append("form_worse")
    return {
        "last_session_at": sessions[-1].started_at if sessions else None,
        "sessions_done": done,
        "sessions_planned": planned,
        "adherence": round(min(1.0, done / planned), 2),
        "adherence_text": adherence_text(done, planned, days),
        "flags": flags,
    }


def trends(db: Session, patient: User) -> dict:
    """Per exercise per ISO week: reps done vs target, average score, hold seconds, range of motion; pain."""
    weeks: dict[tuple[str, str], dict] = defaultdict(
        lambda: {
            "sessions": set(),
            "reps_done": 0,
            "reps_target": 0,
            "scores": [],
            "holds": [],
            "hold_target_s": 0.0,
            "rom": [],
        }
    )
    pain = []
    for s in patient_sessions(db, patient.id):
        year, week, _ = _aware(s.started_at).isocalendar()
        key_week = f"{year}-W{week:02d}"
        for st in s.sets:
            w = weeks[(st.exercise, key_week)]
            w["sessions"].add(s.id)
            w["reps_target"] += st.target_reps or 0
            w["hold_target_s"] = max(w["hold_target_s"], st.target_hold_s or 0.0)
        for r in s.reps:
            w = weeks[(r.exercise, key_week)]
            w["sessions"].add(s.id)
            w["reps_done"] += 1
            w["scores"].append(r.score)
            w["rom"].append(r.range_of_motion)
        for h in s.holds:
            w = weeks[(h.exercise, key_week)]
            w["sessions"].add(s.id)
            w["holds"].append(h.duration_s)
        for p in s.pain_reports:
            pain.append(
                {
                    "session_id": s.id,
                    "week": key_week,
                    "at": s.started_at,
                    "t_s": p.t_s,
                    "rating": p.rating,
                    "location": p.location,
                    "note": p.note,
                    "exercise": p.exercise,
                }
            )
    exercises: dict[str, list[dict]] = defaultdict(list)
    for (exercise, week), w in sorted(weeks.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        exercises[exercise].append(
            {
                "week": week,
                "sessions": len(w["sessions"]),
                "reps_done": w["reps_done"],
                "reps_target": w["reps_target"],
                "avg_score": round(sum(w["scores"]) / len(w["scores"]), 1) if w["scores"] else None,
                "hold_s": round(max(w["holds"]), 2) if w["holds"] else None,
                "hold_target_s": w["hold_target_s"] or None,
                "range_of_motion": round(sum(w["rom"]) / len(w["rom"]), 1) if w["rom"] else None,
            }
        )
    return {"patient_id": patient.id, "exercises": dict(exercises), "pain": pain}


def _met_targets(s: ExerciseSession) -> bool:
    if not s.sets and not s.reps and not s.holds:
        return False
    for st in s.sets:
        if st.target_reps and sum(1 for r in s.reps if r.set_id == st.id) < st.target_reps:
            return False
        holds = [h.duration_s for h in s.holds if h.set_id == st.id]
        if st.target_hold_s and (max(holds, default=0.0) < 0.9 * st.target_hold_s):
            return False
    score = _avg_score(s)
    return score is None or score >= GOOD_FORM_SCORE


def _good_streak(sessions: list[ExerciseSession]) -> int:
    """How many of the latest sessions, in a row, met their targets with good form."""
    streak = 0
    for s in reversed(sessions):
        if not _met_targets(s):
            break
        streak += 1
    return streak


def _latest_change(db: Session, patient_id: int, decision: str) -> LevelChange | None:
    query = (
        select(LevelChange)
        .where(LevelChange.patient_id == patient_id, LevelChange.decision == decision)
        .order_by(LevelChange.at.desc(), LevelChange.id.desc())
    )
    return db.scalars(query).first()


def level_suggestion(db: Session, patient: User) -> dict:
    """Suggest the next level after N sessions in a row at this level that met targets with good form, no pain.
    After the therapist declined it, suggest again only after N more such sessions."""
    if patient.level not in LEVELS or patient.level == LEVELS[-1]:
        return {"suggest": False, "to_level": None, "reason": "Already at the highest level."}
    to_level = LEVELS[LEVELS.index(patient.level) + 1]
    changed = _latest_change(db, patient.id, "accepted")
    since = _aware(changed.at) if changed else None
    declined = _latest_change(db, patient.id, "declined")
    if declined is not None and (since is not None and _aware(declined.at) < since):
        declined = None  # declined at an earlier level
    sessions = [
        s
        for s in patient_sessions(db, patient.id)
        if s.status in DONE and (since is None or _aware(s.started_at) >= since)
    ]
    n = SUGGEST_AFTER_SESSIONS
    if any(s.pain_reports for s in sessions):
        return {
            "suggest": False,
            "to_level": to_level,
            "reason": "Pain was reported at this level; review with the patient before progressing.",
        }
    if declined is not None:
        declined_at = _aware(declined.at)
        streak = _good_streak([s for s in sessions if _aware(s.started_at) >= declined_at])
        on = f"{declined_at:%d %b %Y}".lstrip("0")
        if streak >= n:
            return {
                "suggest": True,
                "to_level": to_level,
                "reason": f"Since the level-up was declined on {on}, {n} more sessions in a row met their targets "
                f"with good form (average score >= {GOOD_FORM_SCORE:.0f}) and no pain was reported.",
            }
        return {
            "suggest": False,
            "to_level": to_level,
            "reason": f"Level-up declined on {on}; suggested again after {n} more sessions in a row that meet "
            f"targets with good form ({streak} so far).",
        }
    recent = sessions[-n:]
    good = sum(1 for s in recent if _met_targets(s))
    if len(recent) == n and good == n:
        return {
            "suggest": True,
            "to_level": to_level,
            "reason": f"The last {n} sessions met their targets with good form "
            f"(average score >= {GOOD_FORM_SCORE:.0f}) and no pain was reported.",
        }
    return {
        "suggest": False,
        "to_level": to_level,
        "reason": f"{good} of the last {len(recent)} sessions met targets with good form; {n} in a row are needed.",
    }
