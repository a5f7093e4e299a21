"""Sessions as the API shows them: summaries, the scored detail, and CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from formcheck.storage.database import ExerciseSession, Job


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def summary(row: ExerciseSession) -> dict:
    return {
        "id": row.id,
        "patient_id": row.patient_id,
        "kind": row.kind,
        "title": row.title,
        "programme": row.programme,
        "status": row.status,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "duration_s": row.duration_s,
        "model": row.model,
        "rep_count": len(row.reps),
        "avg_score": _avg([r.score for r in row.reps]),
        "warning_count": len(row.warnings),
        "pain_count": len(row.pain_reports),
    }


_NOT_SHOWN = {"session_id", "created_at"}


def _event(row) -> dict:
    """A stored rep, hold, warning or pain report as the API shows it: its columns but the session id and
    the row's creation time."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in _NOT_SHOWN}


def _set(s, row: ExerciseSession) -> dict:
    reps = [r for r in row.reps if r.set_id == s.id]
    holds = [h for h in row.holds if h.set_id == s.id]
    return {
        "id": s.id,
        "exercise": s.exercise,
        "set_index": s.set_index,
        "target_reps": s.target_reps,
        "target_hold_s": s.target_hold_s,
        "started_s": s.started_s,
        "ended_s": s.ended_s,
        "status": s.status,
        "reps_done": len(reps),
        "avg_score": _avg([r.score for r in reps]),
        "hold_s": round(sum(h.duration_s for h in holds), 2),
    }


def detail(db: Session, row: ExerciseSession) -> dict:
    job = db.scalars(select(Job).where(Job.session_id == row.id).order_by(Job.id.desc())).first()
    report = row.report or {}
    return {
        **summary(row),
        "source": row.source,
        "frames": row.frames,
        "frames_with_person": row.frames_with_person,
        "notices": list(row.notices or []),
        "error": row.error,
        "sets": [_set(s, row) for s in row.sets],
        "reps": [_event(r) for r in row.reps],
        "holds": [_event(h) for h in row.holds],
        "warnings": [_event(w) for w in row.warnings],
        "pain": [_event(p) for p in row.pain_reports],
        "notes": [
            {"id": n.id, "author_id": n.author_id, "text": n.text, "created_at": n.created_at} for n in row.notes
        ],
        "series": row.series,
        "summary": report.get("summary")
        or {
            "rep_count": len(row.reps),
            "avg_score": _avg([r.score for r in row.reps]),
            "hold_s": round(sum(h.duration_s for h in row.holds), 2),
            "warnings": len(row.warnings),
        },
        "video_url": f"/api/sessions/{row.id}/video" if row.video_file else None,
        "job": {"id": job.id, "status": job.status, "progress": job.progress, "error": job.error} if job else None,
    }


CSV_COLUMNS = [
    "session_id",
    "type",
    "exercise",
    "set_id",
    "index",
    "t_s",
    "start_s",
    "end_s",
    "duration_s",
    "score",
    "range_of_motion",
    "tempo_s",
    "target_s",
    "faults",
    "rule",
    "severity",
    "message",
    "rating",
    "location",
    "note",
]


def _cell(value):
    """Text that a spreadsheet would run as a formula is quoted; numbers keep 3 decimals (ms, tenths of a degree)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, float):
        return round(value, 3)
    return value


def to_csv(d: dict) -> str:
    """One line per rep, hold, warning and pain report, in time order."""
    rows = []
    for r in d["reps"]:
        rows.append({"type": "rep", **r, "t_s": r["end_s"], "faults": ";".join(r["faults"])})
    for h in d["holds"]:
        rows.append({"type": "hold", **h, "t_s": h["end_s"], "faults": ";".join(h["faults"])})
    for w in d["warnings"]:
        rows.append({"type": "warning", **w})
    for p in d["pain"]:
        rows.append({"type": "pain", **p})
    rows.sort(key=lambda r: r.get("t_s") or 0.0)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(v) for k, v in {**r, "session_id": d["id"]}.items()})
    return out.getvalue()
