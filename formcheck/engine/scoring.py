"""Per-repetition score 0-100 from three explained parts: range of motion, control (tempo or hold), form."""

from __future__ import annotations

from formcheck.engine.counter import Rep
from formcheck.engine.rules import SEVERITY_PENALTY
from formcheck.engine.spec import RepSpec, RuleSpec

RANGE_POINTS, CONTROL_POINTS, FORM_POINTS = 40.0, 20.0, 40.0


def _part(points: float, of: float, note: str) -> dict:
    return {"points": round(max(0.0, min(of, points)), 1), "of": of, "note": note}


def score_rep(
    rep: Rep, spec: RepSpec, faults: list[RuleSpec], held_s: float = 0.0, unit: str = ""
) -> tuple[float, dict]:
    """The score and its parts (``{"range_of_motion": {"points", "of", "note"}, "control": ..., "form": ...}``)."""
    wanted = abs(spec.target - spec.rest)
    reached = abs(rep.extreme - spec.rest)
    rom = RANGE_POINTS * min(1.0, reached / wanted) if wanted else RANGE_POINTS
    note = f"reached {rep.extreme:.0f}{unit} (target {spec.target:.0f}{unit})"
    parts = {"range_of_motion": _part(rom, RANGE_POINTS, note)}
    if spec.hold_s > 0:
        frac = min(1.0, held_s / spec.hold_s)
        parts["control"] = _part(CONTROL_POINTS * frac, CONTROL_POINTS, f"held {held_s:.1f} s of {spec.hold_s:.0f} s")
    else:
        lo, hi = spec.tempo_s
        d = rep.duration_s
        frac = 1.0 if lo <= d <= hi else (d / lo if d < lo else hi / d)
        word = "good tempo" if frac == 1.0 else ("too fast" if d < lo else "too slow")
        parts["control"] = _part(CONTROL_POINTS * frac, CONTROL_POINTS, f"{d:.1f} s, {word} ({lo:g}-{hi:g} s)")
    penalty = sum(SEVERITY_PENALTY[r.severity] for r in faults)
    note = "; ".join(r.message for r in faults) or "no form faults"
    parts["form"] = _part(FORM_POINTS - penalty, FORM_POINTS, note)
    return round(sum(p["points"] for p in parts.values()), 1), parts
