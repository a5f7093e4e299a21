"""A stored session as an :class:`AnalysisResult`, and what of a result goes into the session's JSON columns.

A repetition, hold, warning or pain report is stored once, as a row of its table; the ``report`` column keeps
only what has no column (the exercise id, the recognition, the analyzers' per-exercise extras, the count of
frames with several people, live-only summary keys) and ``series`` keeps the curves, one entry per exercise.
This module reads rows by their attributes and imports no table, so the tables' module can use it.
"""

from __future__ import annotations

from typing import Any

from formcheck.core.events import FormWarning, HoldCompleted, PainReported, RepCompleted
from formcheck.core.result import AnalysisResult, Recognition, Series, Tagged

_COMPUTED_SUMMARY_KEYS = {"reps", "holds", "avg_score", "longest_hold_s", "total_hold_s", "warnings", "max_pain",
                          "rate_per_min", "by_exercise"}  # AnalysisResult.summary() recomputes these


def normalise_series(series: Any, exercise: str) -> dict[str, Series]:
    """Curves in the one shape ``{exercise id: {"t": [...], "<signal>": [...], "target_band": {...}}}``.

    Older shapes are read too: a flat series (one exercise, ``exercise`` names it) and ``{"by_exercise": ...}``."""
    if not isinstance(series, dict) or not series:
        return {}
    if "by_exercise" in series:
        series = series["by_exercise"]
    elif isinstance(series.get("t"), list):
        return {exercise: series}
    return {ex: s for ex, s in series.items() if isinstance(s, dict) and isinstance(s.get("t"), list)}


def report_json(d: dict) -> dict:
    """The ``report`` column for a result dict (``AnalysisResult.to_dict()``, possibly with live-only keys):
    everything but the events (stored as rows), the series (its own column) and what the columns hold."""
    summary = d.get("summary") or {}
    by_exercise = summary.get("by_exercise") or {}
    out: dict[str, Any] = {
        "exercise": d.get("exercise"),
        "recognition": d.get("recognition"),
        "frames_with_several_people": d.get("frames_with_several_people", 0),
        "summaries": {ex: {k: v for k, v in s.items() if k not in ("reps", "holds")} for ex, s in by_exercise.items()},
    }
    extra = {k: v for k, v in summary.items() if k not in _COMPUTED_SUMMARY_KEYS}
    if extra:  # e.g. a live session's per-exercise tallies and how it ended
        out["summary_extra"] = extra
    return out


def result_json(result: AnalysisResult) -> dict:
    """The ``report`` column for an :class:`AnalysisResult`."""
    return report_json(result.to_dict())


def session_exercise(row, *, sets_first: bool = False) -> str:
    """The session's exercise id: as analysed, else its only set's exercise, else its title.

    ``sets_first``: the only set's exercise wins (the owner of a flat, unkeyed series)."""
    analysed = (row.report or {}).get("exercise") or ""
    exercises = list(dict.fromkeys(s.exercise for s in row.sets))
    only = exercises[0] if len(exercises) == 1 else ""
    return (only or analysed if sets_first else analysed or only) or row.title or ""


def _rep(r) -> RepCompleted:
    return RepCompleted(r.end_s, r.index, r.start_s, r.end_s, r.range_of_motion or 0.0, r.tempo_s or 0.0, r.score,
                        tuple(r.faults or ()), dict(r.score_parts or {}), r.side)


def _hold(h) -> HoldCompleted:
    return HoldCompleted(h.end_s, h.start_s, h.end_s, h.duration_s, h.target_s or 0.0, tuple(h.faults or ()))


def _warning(w) -> FormWarning:
    return FormWarning(w.t_s, w.rule, w.message, w.severity or "warning",
                       w.confidence if w.confidence is not None else 1.0)


def _pain(p) -> PainReported:
    return PainReported(p.t_s, p.rating, p.location or "", p.note or "")


def result_from_session(row, *, with_series: bool = True) -> AnalysisResult:
    """The stored session (an ``ExerciseSession`` row with its event rows) as an :class:`AnalysisResult`."""
    report = row.report or {}
    exercise = session_exercise(row)
    result = AnalysisResult(
        exercise=exercise,
        model=row.model or "",
        source=row.source or "",
        frames=row.frames or 0,
        frames_with_person=row.frames_with_person or 0,
        frames_with_several_people=report.get("frames_with_several_people") or 0,
        duration_s=row.duration_s or 0.0,
        series=normalise_series(row.series, exercise) if with_series else {},
        summaries={ex: dict(s) for ex, s in (report.get("summaries") or {}).items()},
        recognition=Recognition.from_dict(report.get("recognition")),
        notices=list(row.notices or []),
    )
    rows = [*((r, _rep) for r in row.reps), *((h, _hold) for h in row.holds),
            *((w, _warning) for w in row.warnings), *((p, _pain) for p in row.pain_reports)]
    result.events = sorted((Tagged(r.exercise or exercise, make(r)) for r, make in rows), key=lambda x: x.event.t)
    return result


def stored_summary(row, result: AnalysisResult) -> dict:
    """The session's summary: computed from the result, plus the live-only keys stored with it."""
    return {**(row.report or {}).get("summary_extra", {}), **result.summary()}

