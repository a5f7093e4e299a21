"""Sessions as the API shows them: summaries, the scored detail, and CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from formcheck.core.result import AnalysisResult, ms
from formcheck.storage.database import ExerciseSession, ExerciseSet, Job
from formcheck.storage.results import result_from_session, stored_summary


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def summary(row: ExerciseSession, result: AnalysisResult | None = None) -> dict:
    """The session as a list shows it: what it is and its totals (from the stored result)."""
    result = result or result_from_session(row, with_series=False)
    return {
        "id": row.id,
        "patient_id": row.patient_id,
        "kind": row.kind,
        "title": row.title,
        "programme": row.programme,
        "status": row.status,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "duration_s": ms(row.duration_s),
        "model": row.model,
        "rep_count": result.rep_count,
        "avg_score": _avg([r.score for r in result.reps]),
        "warning_count": len(result.warnings),
        "pain_count": len(result.pain),
    }


def _set(s: ExerciseSet, row: ExerciseSession) -> dict:
    reps = [r for r in row.reps if r.set_id == s.id]
    holds = [h for h in row.holds if h.set_id == s.id]
    return {
        "id": s.id,
        "exercise": s.exercise,
        "set_index": s.set_index,
        "target_reps": s.target_reps,
        "target_hold_s": s.target_hold_s,
        "started_s": ms(s.started_s),
        "ended_s": ms(s.ended_s),
        "status": s.status,
        "reps_done": len(reps),
        "avg_score": _avg([r.score for r in reps]),
        "hold_s": round(sum(h.duration_s for h in holds), 2),
    }


def _job(db: Session, row: ExerciseSession) -> dict | None:
    job = db.scalars(select(Job).where(Job.session_id == row.id).order_by(Job.id.desc())).first()
    return {"id": job.id, "status": job.status, "progress": job.progress, "error": job.error} if job else None


def detail(db: Session, row: ExerciseSession) -> dict:
    """The scored session: the stored result's ``to_dict()`` (the keys of ``formcheck analyze --json``) plus the
    session's metadata (who, what kind, status, sets, notes, video, job)."""
    result = result_from_session(row)
    return {
        **result.to_dict(),
        "summary": stored_summary(row, result),
        **summary(row, result),
        "error": row.error,
        "sets": [_set(s, row) for s in row.sets],
        "notes": [
            {"id": n.id, "author_id": n.author_id, "text": n.text, "created_at": n.created_at} for n in row.notes
        ],
        "video_url": f"/api/sessions/{row.id}/video" if row.video_file else None,
        "job": _job(db, row),
    }


CSV_COLUMNS = [
    "session_id",
    "type",
    "exercise",
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
    """One line per rep, hold, warning and pain report of a session detail (:func:`detail`), in time order."""
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
