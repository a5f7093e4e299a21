"""``AnalysisResult``: the one result of an analysis run, and its one serializer.

``formcheck analyze --json``, the API's session detail, CSV, PDF and the web page are all views of
:meth:`AnalysisResult.to_dict`. Times are in seconds from the start of the source, rounded to milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from formcheck.core.events import Event, FormWarning, HoldCompleted, PainReported, RepCompleted

Series = dict[str, Any]  # {"t": [...], "<signal>": [...], "target_band": {"<signal>": [lo, hi]}}


def ms(t: float | None) -> float | None:
    """A time in seconds rounded to milliseconds (None stays None)."""
    return None if t is None else round(float(t), 3)


@dataclass(frozen=True, slots=True)
class Recognition:
    """Which exercise was analysed and how sure the analysis is of it.

    ``method`` is ``"given"`` (the caller named it, confidence 1), ``"recognised"`` (from the motion) or
    ``"fallback"`` (nothing fitted: the class-agnostic periodic counter)."""

    exercise: str
    confidence: float
    method: str = "given"
    candidates: tuple[tuple[str, float], ...] = ()  # the best few (exercise, score), best first

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise,
            "confidence": round(self.confidence, 3),
            "method": self.method,
            "candidates": [{"exercise": e, "score": round(s, 3)} for e, s in self.candidates],
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> Recognition | None:
        if not d:
            return None
        return cls(d["exercise"], float(d.get("confidence", 0.0)), d.get("method", "given"),
                   tuple((c["exercise"], float(c["score"])) for c in d.get("candidates") or ()))


def rep_dict(e: RepCompleted, exercise: str | None = None) -> dict:
    d = {
        "index": e.index,
        "start_s": ms(e.start_s),
        "end_s": ms(e.end_s),
        "score": round(e.score, 1),
        "faults": list(e.faults),
        "range_of_motion": round(e.range_of_motion, 1),
        "tempo_s": round(e.tempo_s, 3),
        "score_parts": dict(e.score_parts),
        "side": e.side,
    }
    if exercise is not None:
        d["exercise"] = exercise
    return d


def hold_dict(e: HoldCompleted, exercise: str | None = None) -> dict:
    d = {
        "start_s": ms(e.start_s),
        "end_s": ms(e.end_s),
        "duration_s": ms(e.duration_s),
        "target_s": e.target_s,
        "faults": list(e.faults),
    }
    if exercise is not None:
        d["exercise"] = exercise
    return d


def warning_dict(e: FormWarning, exercise: str | None = None) -> dict:
    d = {"t_s": ms(e.t), "rule": e.rule, "message": e.message, "severity": e.severity,
         "confidence": round(e.confidence, 2)}
    if exercise is not None:
        d["exercise"] = exercise
    return d


def pain_dict(e: PainReported, exercise: str | None = None) -> dict:
    d = {"t_s": ms(e.t), "rating": e.rating, "location": e.location, "note": e.note}
    if exercise is not None:
        d["exercise"] = exercise
    return d


@dataclass(frozen=True, slots=True)
class Tagged:
    """An event with the exercise it belongs to (a programme session holds several exercises)."""

    exercise: str
    event: Event


def summarise(reps: list[RepCompleted], holds: list[HoldCompleted], duration_s: float = 0.0,
              rate: bool = False) -> dict:
    """Totals for one exercise (or a whole session): counts, average score, hold times, rate.

    The only place a summary is computed; the CLI, the server and coaching all call it."""
    out: dict[str, Any] = {"reps": len(reps), "holds": len(holds)}
    scores = [r.score for r in reps if "counted_by" not in r.score_parts]  # not scored: counted by another counter
    if scores:
        out["avg_score"] = round(sum(scores) / len(scores), 1)
    if holds:
        out["longest_hold_s"] = ms(max(h.duration_s for h in holds))
        out["total_hold_s"] = ms(sum(h.duration_s for h in holds))
    if rate:
        ends = [r.end_s for r in reps[-8:]]
        out["rate_per_min"] = (round(60.0 * (len(ends) - 1) / (ends[-1] - ends[0]), 1)
                               if len(ends) >= 2 and ends[-1] > ends[0] else None)
    return out


@dataclass
class AnalysisResult:
    """Everything one analysis run found: events by kind (each tagged with its exercise), per-exercise
    series and summaries, the recognised exercise with its confidence, and notices about the input.

    ``exercise`` is the session's exercise id (for a programme session, the programme's title)."""

    exercise: str
    model: str = "full"
    source: str = ""
    frames: int = 0
    frames_with_person: int = 0
    frames_with_several_people: int = 0
    duration_s: float = 0.0
    events: list[Tagged] = field(default_factory=list)  # reps, holds, warnings, pain, in time order
    series: dict[str, Series] = field(default_factory=dict)  # {exercise id: series}
    summaries: dict[str, dict] = field(default_factory=dict)  # {exercise id: summary} from the analyzers
    recognition: Recognition | None = None
    notices: list[str] = field(default_factory=list)  # problems with the input, in words for the person

    # --- building ---------------------------------------------------------------------------------
    def add(self, event: Event, exercise: str | None = None) -> None:
        """Keep one event (state changes and hold progress are transient and not kept)."""
        if isinstance(event, RepCompleted | HoldCompleted | FormWarning | PainReported):
            self.events.append(Tagged(exercise or self.exercise, event))

    def add_all(self, events: list[Event], exercise: str | None = None) -> None:
        for e in events:
            self.add(e, exercise)

    def take_analyzer(self, analyzer, exercise: str | None = None) -> None:
        """Copy an analyzer's series, summary and recognition in (after its stream ended)."""
        ex = exercise or analyzer.exercise
        self.series[ex] = analyzer.series()
        self.summaries[ex] = analyzer.summary()
        rec = analyzer.recognition()
        if rec is not None and self.recognition is None:
            self.recognition = rec

    # --- views ------------------------------------------------------------------------------------
    def _of(self, kind: type) -> list[Tagged]:
        return [x for x in self.events if isinstance(x.event, kind)]

    @property
    def reps(self) -> list[RepCompleted]:
        return [x.event for x in self._of(RepCompleted)]

    @property
    def holds(self) -> list[HoldCompleted]:
        return [x.event for x in self._of(HoldCompleted)]

    @property
    def warnings(self) -> list[FormWarning]:
        return [x.event for x in self._of(FormWarning)]

    @property
    def pain(self) -> list[PainReported]:
        return [x.event for x in self._of(PainReported)]

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def exercises(self) -> list[str]:
        """Exercise ids in the order they first appear (series first, then events)."""
        seen = dict.fromkeys(self.series)
        seen.update(dict.fromkeys(x.exercise for x in self.events))
        return list(seen)

    def summary(self) -> dict:
        """Session totals plus one entry per exercise under ``by_exercise``."""
        out = summarise(self.reps, self.holds)
        if self.warnings:
            out["warnings"] = len(self.warnings)
        if self.pain:
            out["max_pain"] = max(p.rating for p in self.pain)
        per = {}
        for ex in self.exercises:
            reps = [x.event for x in self._of(RepCompleted) if x.exercise == ex]
            holds = [x.event for x in self._of(HoldCompleted) if x.exercise == ex]
            per[ex] = {**summarise(reps, holds), **{k: v for k, v in self.summaries.get(ex, {}).items()
                                                     if k not in ("reps", "holds")}}
        if len(per) == 1:  # one exercise: its extra totals (rate) at the top level too
            out.update({k: v for k, v in next(iter(per.values())).items() if k not in out})
        out["by_exercise"] = per
        return out

    def to_dict(self) -> dict:
        """The JSON contract (``formcheck analyze --json`` and the API's session detail)."""
        return {
            "exercise": self.exercise,
            "recognition": self.recognition.to_dict() if self.recognition else None,
            "model": self.model,
            "source": self.source,
            "frames": self.frames,
            "frames_with_person": self.frames_with_person,
            "frames_with_several_people": self.frames_with_several_people,
            "duration_s": ms(self.duration_s),
            "rep_count": self.rep_count,
            "reps": [rep_dict(x.event, x.exercise) for x in self._of(RepCompleted)],
            "holds": [hold_dict(x.event, x.exercise) for x in self._of(HoldCompleted)],
            "warnings": [warning_dict(x.event, x.exercise) for x in self._of(FormWarning)],
            "pain": [pain_dict(x.event, x.exercise) for x in self._of(PainReported)],
            "notices": list(self.notices),
            "summary": self.summary(),
            "series": self.series,
        }

    @classmethod
    def from_dict(cls, d: dict) -> AnalysisResult:
        """The inverse of :meth:`to_dict` (events, series, recognition and notices; summaries are recomputed)."""
        r = cls(exercise=d["exercise"], model=d.get("model", ""), source=d.get("source", ""),
                frames=d.get("frames", 0), frames_with_person=d.get("frames_with_person", 0),
                frames_with_several_people=d.get("frames_with_several_people", 0),
                duration_s=d.get("duration_s", 0.0), series=dict(d.get("series") or {}),
                recognition=Recognition.from_dict(d.get("recognition")), notices=list(d.get("notices") or []))
        ex = d["exercise"]
        by = (d.get("summary") or {}).get("by_exercise") or {}
        r.summaries = {k: dict(v) for k, v in by.items()}
        for x in d.get("reps") or ():
            r.add(RepCompleted(x["end_s"], x["index"], x["start_s"], x["end_s"], x.get("range_of_motion", 0.0),
                               x.get("tempo_s", 0.0), x["score"], tuple(x.get("faults") or ()),
                               dict(x.get("score_parts") or {}), x.get("side")), x.get("exercise", ex))
        for x in d.get("holds") or ():
            r.add(HoldCompleted(x["end_s"], x["start_s"], x["end_s"], x["duration_s"], x.get("target_s") or 0.0,
                                tuple(x.get("faults") or ())), x.get("exercise", ex))
        for x in d.get("warnings") or ():
            r.add(FormWarning(x["t_s"], x["rule"], x["message"], x.get("severity", "warning"),
                              x.get("confidence", 1.0)), x.get("exercise", ex))
        for x in d.get("pain") or ():
            r.add(PainReported(x["t_s"], x["rating"], x.get("location", ""), x.get("note", "")), x.get("exercise", ex))
        r.events.sort(key=lambda x: x.event.t)
        return r
