"""``formcheck eval --sensitivity``: how many clip outcomes change when each spec threshold moves by ±10%.

A count that survives only because a threshold sits right at one clip's value is overfit; a robust spec keeps
its outcomes when any single threshold moves a little. Each threshold (repetition rest / target / hysteresis /
minimum range, hold conditions, rule bounds and durations) of the clip's spec is moved up and down by
``fraction`` of its value, one at a time, and the clip is replayed from its cached landmarks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.catalog import load_spec
from formcheck.engine.spec import ExerciseSpec
from formcheck.evaluation.clips import ClipResult, ClipTruth, clip_stream, evaluate_stream, read_ground_truth

Path_ = tuple  # a path into the spec's dict form, e.g. ("rep", "target") or ("rules", 0, "min")


def thresholds(spec: ExerciseSpec) -> Iterator[tuple[str, Path_]]:
    """Every numeric threshold of a spec, as (readable name, path into ``spec.model_dump()``)."""
    d = spec.model_dump()
    if d.get("rep"):
        for key in ("rest", "target", "hysteresis", "min_range"):
            if d["rep"].get(key) is not None:
                yield f"rep.{key}", ("rep", key)
        for key in ("target", "rest"):
            if (d["rep"].get("calibrate") or {}).get(key) is not None:
                yield f"rep.calibrate.{key}", ("rep", "calibrate", key)
    if d.get("hold"):
        for i, c in enumerate(d["hold"]["conditions"]):
            for key in ("min", "max"):
                if c.get(key) is not None:
                    yield f"hold.{c['signal']}.{key}", ("hold", "conditions", i, key)
    for i, r in enumerate(d.get("rules") or ()):
        for key in ("min", "max", "min_duration_s"):
            if r.get(key) is not None:
                yield f"rule.{r['id']}.{key}", ("rules", i, key)


def moved(spec: ExerciseSpec, path: Path_, factor: float) -> ExerciseSpec | None:
    """The spec with one threshold multiplied by ``factor`` (None when that makes the spec invalid)."""
    d = copy.deepcopy(spec.model_dump())
    node = d
    for key in path[:-1]:
        node = node[key]
    value = node[path[-1]]
    node[path[-1]] = value * factor if value else (factor - 1.0)  # a zero threshold moves by the fraction itself
    rep, cal = d.get("rep") or {}, (d.get("rep") or {}).get("calibrate")
    if cal and path in (("rep", "rest"), ("rep", "target")):  # calibration bounds keep their place between them
        old = {"rest": spec.rep.rest, "target": spec.rep.target}
        span = old["target"] - old["rest"]
        for key in ("rest", "target"):
            if cal.get(key) is not None and span:
                share = (cal[key] - old["rest"]) / span
                cal[key] = rep["rest"] + share * (rep["target"] - rep["rest"])
    try:
        return ExerciseSpec.model_validate(d)
    except ValueError:
        return None


def outcome(r: ClipResult) -> tuple:
    """What eval scores for a clip: count within tolerance, holds matched, faults found."""
    return (r.within, r.holds_within, bool(r.faults_found), r.error is not None)


@dataclass
class Sensitivity:
    fraction: float
    perturbations: int = 0
    changed: int = 0
    by_threshold: dict[str, dict] = field(default_factory=dict)  # "spec: threshold" -> {"moves", "changed", "clips"}

    @property
    def changed_share(self) -> float | None:
        return self.changed / self.perturbations if self.perturbations else None

    def to_dict(self) -> dict:
        return {"fraction": self.fraction, "perturbations": self.perturbations, "changed": self.changed,
                "changed_share": self.changed_share,
                "changes": {k: v for k, v in sorted(self.by_threshold.items()) if v["changed"]}}


def sensitivity(folder: str | Path, cache: str | Path | None = None, model: str = "full", fraction: float = 0.1,
                progress: Callable[[Iterable], Iterable] | None = None) -> Sensitivity:
    """Move every threshold of each clip's spec by ±``fraction`` and count the clip outcomes that change.

    Only clips whose outcome is scored (a count, holds or a form label) take part."""
    folder = Path(folder)
    truths = read_ground_truth(folder)
    root = folder.parent if folder.is_file() else folder
    out = Sensitivity(fraction)
    items = progress(truths) if progress else truths
    for truth in items:
        _one_clip(truth, root, Path(cache) if cache else None, model, fraction, out)
    return out


def _one_clip(truth: ClipTruth, root: Path, cache: Path | None, model: str, fraction: float,
              out: Sensitivity) -> None:
    if not (truth.scored or truth.holds or truth.faulty is not None):
        return
    try:
        spec = load_spec(truth.exercise)
        stream = clip_stream(truth, root, cache, model)
    except (KeyError, ValueError, OSError):
        return
    base = outcome(evaluate_stream(truth, stream, model))
    for name, path in thresholds(spec):
        for factor in (1.0 - fraction, 1.0 + fraction):
            variant = moved(spec, path, factor)
            key = f"{spec.id}: {name}"
            entry = out.by_threshold.setdefault(key, {"moves": 0, "changed": 0, "clips": [], "invalid": 0})
            if variant is None:  # the moved value breaks the spec (e.g. a bound past its neighbour): not a run
                entry["invalid"] += 1
                continue
            got = outcome(evaluate_stream(truth, stream, model, analyzer=ExerciseAnalyzer(variant)))
            entry["moves"] += 1
            out.perturbations += 1
            if got != base:
                entry["changed"] += 1
                out.changed += 1
                sign = "-" if factor < 1 else "+"
                entry["clips"].append(f"{truth.clip} ({sign}{fraction:.0%})")


def format_sensitivity(s: Sensitivity) -> str:
    lines = [f"thresholds moved by ±{s.fraction:.0%}: {s.perturbations} runs, {s.changed} changed a clip's outcome"
             + (f" ({s.changed_share:.1%})" if s.perturbations else "")]
    for key, v in sorted(s.by_threshold.items()):
        if v["changed"]:
            lines.append(f"  {key:48s} {v['changed']}/{v['moves']}  {', '.join(v['clips'])}")
    return "\n".join(lines)
