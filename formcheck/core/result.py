"""Session report: the JSON contract of ``formcheck analyze`` and of the API's session detail."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from formcheck.core.events import Event, FormWarning, HoldCompleted, PainReported, RepCompleted


@dataclass
class SessionReport:
    exercise: str
    model: str = "full"
    source: str = ""
    frames: int = 0
    frames_with_person: int = 0
    frames_with_several_people: int = 0
    duration_s: float = 0.0
    reps: list[dict] = field(default_factory=list)
    holds: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    pain: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # problems with the input, in words for the person
    summary: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)  # signal time series for plots (analyzer.series())

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    def add(self, event: Event) -> None:
        """Fold one event into the report."""
        if isinstance(event, RepCompleted):
            self.reps.append(
                {
                    "index": event.index,
                    "start_s": round(event.start_s, 3),
                    "end_s": round(event.end_s, 3),
                    "score": round(event.score, 1),
                    "faults": list(event.faults),
                    "range_of_motion": round(event.range_of_motion, 1),
                    "tempo_s": round(event.tempo_s, 2),
                    "score_parts": event.score_parts,
                    "side": event.side,
                }
            )
        elif isinstance(event, HoldCompleted):
            self.holds.append(
                {
                    "start_s": round(event.start_s, 3),
                    "end_s": round(event.end_s, 3),
                    "duration_s": round(event.duration_s, 2),
                    "target_s": event.target_s,
                    "faults": list(event.faults),
                }
            )
        elif isinstance(event, FormWarning):
            self.warnings.append(
                {"t_s": round(event.t, 3), "rule": event.rule, "message": event.message, "severity": event.severity}
            )
        elif isinstance(event, PainReported):
            self.pain.append(
                {"t_s": round(event.t, 3), "rating": event.rating, "location": event.location, "note": event.note}
            )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rep_count"] = self.rep_count
        return d
