"""``formcheck eval``: accuracy of repetition counts, holds and fault detection on clips with ground truth.

``DIR/ground_truth.csv`` has one row per clip (columns: clip, exercise, reps, reps_tolerance, holds_s,
hold_tolerance_s, form, ...; see ``../shared/data/README.md``). Every clip runs through the real pose model
(or a cached landmark stream of it) and the engine, exactly as ``formcheck analyze`` would.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from formcheck.core.result import AnalysisResult
from formcheck.engine import Analyzer, create_analyzer
from formcheck.io.recording import PoseStream
from formcheck.pipeline.loop import replay as replay_poses

REQUIRED_COLUMNS = ("clip", "exercise", "reps", "reps_tolerance")


class EvalError(ValueError):
    """The ground-truth file or folder is unusable; the message says why."""


@dataclass(frozen=True)
class ClipTruth:
    """One row of ``ground_truth.csv``."""

    clip: str
    exercise: str
    reps: int | None = None
    reps_tolerance: int | None = None  # None: the count is not scored (stress clip)
    holds: tuple[tuple[float, float], ...] = ()
    hold_tolerance_s: float = 1.0
    form: str = ""

    @property
    def scored(self) -> bool:
        return self.reps is not None and self.reps_tolerance is not None

    @property
    def faulty(self) -> bool | None:
        """True when the clip shows faults, False when its form is correct, None when unknown."""
        form = self.form.strip().lower()
        if not form:
            return None
        return form != "correct"


@dataclass
class ClipResult:
    clip: str
    exercise: str
    expected: int | None
    got: int | None
    within: bool | None  # None: not scored
    holds_expected: int = 0
    holds_within: int = 0
    holds_got: list[float] = field(default_factory=list)  # durations found
    faulty: bool | None = None
    faults_found: list[str] = field(default_factory=list)
    error: str = ""  # the crash, if any
    note: str = ""
    recognised: str | None = None  # with ``auto``: the exercise the recogniser chose


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(float(text)) if text else None


def parse_holds(text: str) -> tuple[tuple[float, float], ...]:
    """``"2.5-5.5;13-19"`` -> ((2.5, 5.5), (13.0, 19.0))."""
    holds = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise EvalError(f"hold interval {part!r} should be start-end in seconds, e.g. 2.5-5.5")
        holds.append((float(start), float(end)))
    return tuple(holds)


def read_ground_truth(path: str | Path) -> list[ClipTruth]:
    """Rows of a ground-truth CSV, with a clear error for a missing file or column."""
    path = Path(path)
    if path.is_dir():
        path = path / "ground_truth.csv"
    if not path.exists():
        raise EvalError(f"{path} not found: the folder needs a ground_truth.csv (one row per clip)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise EvalError(f"{path.name} lacks the column(s) {', '.join(missing)}")
        rows = []
        for n, row in enumerate(reader, start=2):
            try:
                rows.append(ClipTruth(
                    clip=row["clip"].strip(),
                    exercise=row["exercise"].strip(),
                    reps=_int_or_none(row.get("reps", "")),
                    reps_tolerance=_int_or_none(row.get("reps_tolerance", "")),
                    holds=parse_holds(row.get("holds_s", "")),
                    hold_tolerance_s=float(row.get("hold_tolerance_s") or 1.0),
                    form=row.get("form", "") or "",
                ))
            except ValueError as exc:
                raise EvalError(f"{path.name} line {n}: {exc}") from exc
    return rows


def replay(stream: PoseStream, analyzer: Analyzer, model: str = "") -> AnalysisResult:
    """Run an analyzer over a recorded landmark stream: the frame loop without frames or an estimator."""
    return replay_poses(stream, analyzer, model=model or stream.meta.get("model", ""),
                        source=str(stream.meta.get("source", "")))


def video_stream(video: Path, model: str = "full") -> PoseStream:
    """The landmark stream of a video, from the real pose model (no smoothing, as ``formcheck analyze``)."""
    from formcheck.engine import PoseOnlyAnalyzer
    from formcheck.io.recording import PoseRecorder
    from formcheck.io.sources import open_source
    from formcheck.pipeline.loop import run
    from formcheck.pose.estimator import PoseEstimator, PoseEstimatorOptions

    source = open_source(str(video))
    recorder = PoseRecorder({"source": source.name, "model": model})
    try:
        with PoseEstimator.create(PoseEstimatorOptions(model=model)) as estimator:
            run(source, estimator, PoseOnlyAnalyzer(), sinks=[recorder])
    finally:
        source.close()
    if not recorder.poses:
        raise EvalError(f"{video.name} has no frames")
    return recorder.stream()


def cached_stream(video: Path, cache: Path | None, key: str, model: str = "full") -> PoseStream:
    """The clip's landmark stream from ``cache/<key>.npz`` when present, else from the model (then cached)."""
    if cache is not None:
        path = cache / (str(Path(key).with_suffix("")) + ".npz")
        if path.exists():
            return PoseStream.load(path)
    stream = video_stream(video, model)
    if cache is not None:
        stream.save(path)
    return stream


def faults_of(report: AnalysisResult) -> list[str]:
    """Every rule that fired: warnings and the faults attached to repetitions and holds (sorted, unique)."""
    found = {w.rule for w in report.warnings}
    for item in report.reps + report.holds:
        found.update(item.faults)
    found.discard("partial_rep")
    return sorted(found)


def match_holds(expected: Iterable[tuple[float, float]], got: list[dict], tolerance: float) -> int:
    """How many expected holds have a found hold (the one overlapping it most) within ``tolerance`` seconds of
    its duration. Expected holds separated by no more than ``tolerance`` (an edit cut or a change of camera
    view, not a rest) may also be read as one hold: a found hold within ``tolerance`` of their whole span
    matches each of them."""
    expected = sorted(expected)
    runs: list[list[tuple[float, float]]] = []
    for hold in expected:
        if runs and hold[0] - runs[-1][-1][1] <= tolerance:
            runs[-1].append(hold)
        else:
            runs.append([hold])
    ok = 0
    for run in runs:
        span = (run[0][0], run[-1][1])
        for start, end in run:
            if _matches(start, end, got, tolerance) or (len(run) > 1 and _matches(*span, got, tolerance)):
                ok += 1
    return ok


def _matches(start: float, end: float, got: list[dict], tolerance: float) -> bool:
    best, overlap = None, 0.0
    for h in got:
        o = min(end, h.end_s) - max(start, h.start_s)
        if o > overlap:
            best, overlap = h, o
    return best is not None and abs(best.duration_s - (end - start)) <= tolerance


def evaluate_clip(truth: ClipTruth, root: Path, cache: Path | None = None, model: str = "full",
                  auto: bool = False) -> ClipResult:
    """Run one clip and compare it with its ground truth. Errors are caught and reported, not raised.
    With ``auto`` the exercise is recognised from the motion (``--exercise auto``) instead of given."""
    try:
        stream = clip_stream(truth, root, cache, model)
    except Exception as exc:  # a crash is a result to count, not a reason to stop
        return _failed(truth, exc)
    return evaluate_stream(truth, stream, model, auto)


def clip_stream(truth: ClipTruth, root: Path, cache: Path | None = None, model: str = "full") -> PoseStream:
    """The clip's landmark stream (cached or from the model); ``EvalError`` when the clip is missing."""
    video = root / truth.clip
    if not video.exists() and not (cache and (cache / truth.clip).with_suffix(".npz").exists()):
        raise EvalError(f"clip not found: {video}")
    return cached_stream(video, cache, truth.clip, model)


def _failed(truth: ClipTruth, exc: Exception) -> ClipResult:
    result = ClipResult(truth.clip, truth.exercise, truth.reps if truth.scored else None, None, None,
                        holds_expected=len(truth.holds), faulty=truth.faulty)
    result.error = f"{type(exc).__name__}: {exc}"
    return result


def evaluate_stream(truth: ClipTruth, stream: PoseStream, model: str = "full", auto: bool = False,
                    analyzer: Analyzer | None = None) -> ClipResult:
    """Replay a landmark stream through the clip's analyzer (or the one given) and compare with ``truth``
    (errors are reported)."""
    result = ClipResult(truth.clip, truth.exercise, truth.reps if truth.scored else None, None, None,
                        holds_expected=len(truth.holds), faulty=truth.faulty)
    try:
        try:
            analyzer = analyzer or create_analyzer("auto" if auto else truth.exercise)
        except (KeyError, ValueError):
            from formcheck.engine.periodic import PeriodicAnalyzer

            analyzer = PeriodicAnalyzer()
            result.note = "no catalog spec: periodic counter"
        report = replay(stream, analyzer, model)
    except Exception as exc:  # a crash is a result to count, not a reason to stop
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.got = report.rep_count
    if truth.scored:
        result.within = abs(result.got - truth.reps) <= truth.reps_tolerance
    result.holds_got = [round(h.duration_s, 3) for h in report.holds]
    result.holds_within = match_holds(truth.holds, report.holds, truth.hold_tolerance_s)
    result.faults_found = faults_of(report)
    if auto:
        result.recognised = analyzer.exercise
        return result
    if getattr(analyzer, "exercise", truth.exercise) != truth.exercise and not result.note:
        result.note = f"analysed as {analyzer.exercise}"
    return result


def count_metrics(pairs: list[tuple[int, int]]) -> dict[str, float | None]:
    """MAE (mean |got - expected| / expected) and OBO (fraction off by at most one) of (expected, got) pairs."""
    if not pairs:
        return {"mae": None, "obo": None, "exact": None}
    errors = [abs(g - e) / max(e, 1) for e, g in pairs]
    return {
        "mae": sum(errors) / len(pairs),
        "obo": sum(abs(g - e) <= 1 for e, g in pairs) / len(pairs),
        "exact": sum(g == e for e, g in pairs) / len(pairs),
    }


def fault_metrics(pairs: list[tuple[bool, bool]]) -> dict[str, float | None]:
    """Precision and recall of (truth is faulty, faults were found) pairs."""
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    return {
        "fault_precision": tp / (tp + fp) if tp + fp else None,
        "fault_recall": tp / (tp + fn) if tp + fn else None,
    }


def totals(results: list[ClipResult]) -> dict:
    """The summary numbers of ``formcheck eval``."""
    scored = [r for r in results if r.within is not None]
    pairs = [(r.expected, r.got) for r in scored]
    counts = count_metrics(pairs)
    holds_expected = sum(r.holds_expected for r in results)
    out = {
        "clips": len(results),
        "clips_scored": len(scored),
        "reps_within_tolerance": sum(r.within for r in scored) / len(scored) if scored else None,
        "reps_exact": counts["exact"],
        "obo": counts["obo"],
        "mae": counts["mae"],
        "holds_expected": holds_expected,
        "holds_within_tolerance": sum(r.holds_within for r in results) / holds_expected if holds_expected else None,
        "crashes": sum(bool(r.error) for r in results),
    }
    out.update(fault_metrics([(r.faulty, bool(r.faults_found)) for r in results
                              if r.faulty is not None and not r.error]))
    if any(r.recognised is not None for r in results):
        out["recognition_accuracy"] = sum(r.recognised == r.exercise for r in results) / len(results)
    return out


def evaluate_dir(folder: str | Path, cache: str | Path | None = None, model: str = "full",
                 progress: Callable[[Iterable], Iterable] | None = None,
                 auto: bool = False) -> tuple[list[ClipResult], dict]:
    """Evaluate every clip listed in ``folder/ground_truth.csv``; returns per-clip results and totals."""
    folder = Path(folder)
    truths = read_ground_truth(folder)
    if folder.is_file():  # the CSV itself was given: clips are relative to its folder
        folder = folder.parent
    items = progress(truths) if progress else truths
    results = [evaluate_clip(t, folder, Path(cache) if cache else None, model, auto) for t in items]
    return results, totals(results)


def format_table(results: list[ClipResult], summary: dict) -> str:
    """The per-clip table and the totals, as plain text."""
    head = f"{'clip':44s} {'exercise':24s} {'expected':>8s} {'got':>4s} {'ok':>4s} {'holds':>6s} {'faults':>14s}"
    lines = [head, "-" * len(head)]
    for r in results:
        ok = "-" if r.within is None else ("yes" if r.within else "NO")
        holds = f"{r.holds_within}/{r.holds_expected}" if r.holds_expected else ""
        truth = {None: "", True: "fault", False: "ok"}[r.faulty]
        faults = f"{truth}/{'found' if r.faults_found else 'none'}" if truth else ""
        exp = "" if r.expected is None else str(r.expected)
        got = "ERR" if r.error else ("" if r.got is None else str(r.got))
        note = r.error or r.note or (f"recognised {r.recognised}" if r.recognised else "")
        lines.append(f"{r.clip[:44]:44s} {r.exercise[:24]:24s} {exp:>8s} {got:>4s} {ok:>4s} {holds:>6s} {faults:>14s}"
                     + (f"  {note}" if note else ""))
    lines.append("")
    for k, v in summary.items():
        lines.append(f"{k:24s} {_fmt(v)}")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}" if not math.isnan(v) else "n/a"
    return str(v)


def results_json(results: list[ClipResult], summary: dict) -> dict:
    return {**summary, "results": [asdict(r) for r in results]}



# --- derived cases (``--derived``) ---------------------------------------------------------------------------
def derived_cases(truth: ClipTruth, stream: PoseStream):
    """The derived cases of one clip (:mod:`formcheck.evaluation.derived`) with their ground truth as ``ClipTruth``."""
    from formcheck.evaluation.derived import Truth, derive_all

    base = Truth(truth.reps, truth.reps_tolerance, truth.holds, truth.hold_tolerance_s)
    for case in derive_all(stream, base, seed=truth.clip):
        t = case.truth
        yield case, replace(truth, reps=t.reps, reps_tolerance=t.reps_tolerance, holds=t.holds,
                            hold_tolerance_s=t.hold_tolerance_s)


def evaluate_derived(
    folder: str | Path, cache: str | Path | None = None, model: str = "full",
    progress: Callable[[Iterable], Iterable] | None = None,
) -> tuple[dict[str, list[ClipResult]], dict]:
    """Every derived case of every clip with a scored count or holds: results per derivation and the totals.
    A skipped case (implausible speed, no honest loop seam) is listed with its reason, not scored."""
    folder = Path(folder)
    truths = [t for t in read_ground_truth(folder) if t.scored or t.holds]
    if folder.is_file():
        folder = folder.parent
    by_name: dict[str, list[ClipResult]] = {}
    kinds: dict[str, str] = {}
    for truth in (progress(truths) if progress else truths):
        try:
            stream = clip_stream(truth, folder, Path(cache) if cache else None, model)
        except Exception as exc:
            by_name.setdefault("mirrored", []).append(_failed(truth, exc))
            continue
        for case, case_truth in derived_cases(truth, stream):
            kinds[case.name] = case.kind
            if case.stream is None:
                r = ClipResult(truth.clip, truth.exercise, None, None, None, faulty=truth.faulty,
                               note=f"skipped: {case.note}")
            else:
                r = evaluate_stream(case_truth, case.stream, model)
            by_name.setdefault(case.name, []).append(r)
    return by_name, derived_totals(by_name, kinds)


def derived_totals(by_name: dict[str, list[ClipResult]], kinds: dict[str, str]) -> dict:
    """Totals over all derived cases, per kind (mirrored, speed, looped, dropout) and per derivation."""
    def scored(results):
        return [r for r in results if not r.note.startswith("skipped")]

    everything = [r for rs in by_name.values() for r in scored(rs)]
    overall = totals(everything) if everything else {}
    out = {
        "derived_cases": len(everything),
        "derived_skipped": sum(len(rs) - len(scored(rs)) for rs in by_name.values()),
        "derived_within_tolerance": overall.get("reps_within_tolerance"),
        "derived_exact": overall.get("reps_exact"),
        "derived_holds_within_tolerance": overall.get("holds_within_tolerance"),
        "derived_crashes": overall.get("crashes", 0),
    }
    by_kind = {}
    for kind in dict.fromkeys(kinds.values()):
        rs = [r for name, results in by_name.items() if kinds.get(name) == kind for r in scored(results)]
        t = totals(rs) if rs else {}
        by_kind[kind] = {k: t.get(k) for k in ("clips_scored", "reps_within_tolerance", "reps_exact",
                                                "holds_expected", "holds_within_tolerance", "crashes")}
    out["by_kind"] = by_kind
    out["by_derivation"] = {name: totals(scored(rs)) if scored(rs) else {} for name, rs in by_name.items()}
    return out


def format_derived(by_name: dict[str, list[ClipResult]], summary: dict) -> str:
    """A table and totals per derivation, then the overall derived totals and the totals by kind."""
    parts = []
    for name, results in by_name.items():
        parts.append(f"== derived: {name} ==")
        parts.append(format_table(results, summary["by_derivation"].get(name, {})))
        parts.append("")
    parts.append("== derived: overall ==")
    for k, v in summary.items():
        if k not in ("by_kind", "by_derivation"):
            parts.append(f"{k:32s} {_fmt(v)}")
    for kind, t in summary["by_kind"].items():
        parts.append(f"{kind:12s} " + "  ".join(f"{k}={_fmt(v)}" for k, v in t.items()))
    return "\n".join(parts)


def derived_json(by_name: dict[str, list[ClipResult]], summary: dict) -> dict:
    return {**summary, "results": {name: [asdict(r) for r in rs] for name, rs in by_name.items()}}
