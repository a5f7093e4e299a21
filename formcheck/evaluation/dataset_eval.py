"""``formcheck eval-datasets``: landmark-level accuracy on KERAAL, UI-PRMD and RepCount.

- KERAAL: the catalog specs' form rules on each repetition, from the dataset's BlazePose skeletons and from
  our own model on its videos: correct vs fault, and which arm is at fault.
- UI-PRMD: correct vs incorrect repetitions (deep squat, inline lunge, sit to stand, standing straight leg
  raise) judged against reference repetitions (:mod:`formcheck.engine.reference`), leave-one-subject-out: the
  references come from the other subjects, never from the person being judged.
- RepCount: the class-agnostic counter (:mod:`formcheck.engine.periodic`): MAE and OBO per class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from formcheck.engine import create_analyzer
from formcheck.engine.reference import ReferenceModel, repetition_features
from formcheck.evaluation.clips import cached_stream, count_metrics, faults_of, replay
from formcheck.evaluation.datasets import (
    REPCOUNT_SCORED,
    UI_PRMD_FPS,
    UI_PRMD_MOVEMENTS,
    KeraalItem,
    keraal_items,
    repcount_items,
    ui_prmd_items,
)

UI_PRMD_EVALUATED = (1, 3, 5, 6)  # deep squat, inline lunge, sit to stand, standing straight leg raise
Progress = Callable[[Iterable], Iterable]


def _identity(items: Iterable, **_) -> Iterable:
    return items


def fault_side(faults: Iterable[str]) -> str:
    """Which arm(s) the faults name: ``"none"``, ``"left"``, ``"right"`` or ``"both"`` (from rule ids)."""
    left = any("left" in f for f in faults)
    right = any("right" in f for f in faults)
    return {(False, False): "none", (True, False): "left", (False, True): "right", (True, True): "both"}[(left, right)]


def _keraal_one(item: KeraalItem, stream) -> dict:
    report = replay(stream, create_analyzer(item.exercise))
    faults = faults_of(report)
    side = fault_side(faults)
    return {
        "file": f"{item.path.parent.name}/{item.path.name}",
        "exercise": item.exercise,
        "truth": "correct" if item.label.correct else item.label.side,
        "found": side if faults else "correct",
        "faults": faults,
        "reps": report.rep_count,
        "fault_ok": bool(faults) != item.label.correct,
        "side_ok": (side if faults else "none") == item.label.side,
    }


def _keraal_summary(rows: list[dict]) -> dict:
    faulty = [r for r in rows if r["truth"] != "correct"]
    out = {
        "n": len(rows),
        "correct_vs_fault": float(np.mean([r["fault_ok"] for r in rows])) if rows else None,
        "side_accuracy": float(np.mean([r["side_ok"] for r in faulty])) if faulty else None,
        "per_exercise": {},
    }
    for ex in sorted({r["exercise"] for r in rows}):
        sub = [r for r in rows if r["exercise"] == ex]
        sub_faulty = [r for r in sub if r["truth"] != "correct"]
        out["per_exercise"][ex] = {
            "n": len(sub),
            "correct_vs_fault": float(np.mean([r["fault_ok"] for r in sub])),
            "side_accuracy": float(np.mean([r["side_ok"] for r in sub_faulty])) if sub_faulty else None,
        }
    out["files"] = rows
    return out


def evaluate_keraal(data: Path, cache: Path | None = None, model: str = "full", progress: Progress = _identity,
                    videos: bool = True) -> dict:
    """KERAAL from the skeleton files and (``videos``) from the videos through our model."""
    result = {}
    skel = keraal_items(data / "keraal_blazepose")
    result["skeletons"] = _keraal_summary([_keraal_one(i, i.stream()) for i in progress(skel, desc="KERAAL skeletons")])
    if not videos:
        return result
    video_root = data / "videos"
    videos = keraal_items(video_root / "keraal", suffixes=(".avi", ".mp4"))
    rows = []
    for item in progress(videos, desc="KERAAL videos"):
        key = str(item.path.relative_to(video_root))
        rows.append(_keraal_one(item, cached_stream(item.path, cache, key, model)))
    result["videos"] = _keraal_summary(rows)
    return result


def _balanced_accuracy(truth: list[bool], pred: list[bool]) -> float:
    t, p = np.asarray(truth), np.asarray(pred)
    tpr = np.mean(p[t]) if t.any() else np.nan
    tnr = np.mean(~p[~t]) if (~t).any() else np.nan
    return float(np.nanmean([tpr, tnr]))


def evaluate_ui_prmd(data: Path, movements: tuple[int, ...] = UI_PRMD_EVALUATED, progress: Progress = _identity,
                     one_class: bool = False) -> dict:
    """Correct vs incorrect per movement, leave-one-subject-out. ``one_class`` uses correct references only."""
    items = ui_prmd_items(data / "ui_prmd", movements)
    feats = {}
    for it in progress(items, desc="UI-PRMD"):
        feats[it] = repetition_features(it.stream().world, UI_PRMD_FPS)
    out: dict = {"protocol": "leave-one-subject-out: references from the other subjects, the held-out subject "
                             "is judged", "references": "correct only" if one_class else "correct and incorrect",
                 "movements": {}}
    for m in movements:
        sub = [it for it in items if it.movement == m]
        subjects = sorted({it.subject for it in sub})
        truth, pred = [], []
        for s in subjects:
            ref = [it for it in sub if it.subject != s]
            good = [feats[it] for it in ref if it.correct]
            bad = [] if one_class else [feats[it] for it in ref if not it.correct]
            groups = [it.subject for it in ref if it.correct]
            model = ReferenceModel().fit(good, bad, groups)
            for it in sub:
                if it.subject == s:
                    truth.append(not it.correct)
                    pred.append(model.is_incorrect(feats[it]))
        t, p = np.asarray(truth), np.asarray(pred)
        out["movements"][f"m{m:02d}"] = {
            "movement": UI_PRMD_MOVEMENTS[m],
            "n": len(t),
            "subjects": len(subjects),
            "sensitivity": float(np.mean(p[t])) if t.any() else None,
            "specificity": float(np.mean(~p[~t])) if (~t).any() else None,
            "balanced_accuracy": _balanced_accuracy(truth, pred),
        }
    accs = [v["balanced_accuracy"] for v in out["movements"].values()]
    out["mean_balanced_accuracy"] = float(np.mean(accs)) if accs else None
    return out


def evaluate_repcount(data: Path, classes: tuple[str, ...] = REPCOUNT_SCORED, progress: Progress = _identity,
                      live: bool = False) -> dict:
    """The class-agnostic counter on RepCount pose streams: MAE and OBO per class and overall, on the whole
    recording (offline) and, with ``live``, frame by frame as the live analyzer reports them."""
    from formcheck.engine.periodic import PeriodicAnalyzer, count_repetitions

    rows = []
    for item in progress(repcount_items(data / "repcount_pose", classes=classes), desc="RepCount"):
        stream = item.stream()
        row = {"name": item.name, "class": item.cls, "expected": item.count,
               "got": count_repetitions(stream.landmarks, stream.timestamps).count}
        if live:
            row["got_live"] = replay(stream, PeriodicAnalyzer()).rep_count
        rows.append(row)
    out: dict = {"classes": {}}
    for cls in sorted({r["class"] for r in rows}):
        out["classes"][cls] = _count_summary([r for r in rows if r["class"] == cls], live)
    out["overall"] = _count_summary(rows, live)
    out["videos"] = rows
    return out


def _count_summary(rows: list[dict], live: bool) -> dict:
    out = {"n": len(rows), **count_metrics([(r["expected"], r["got"]) for r in rows])}
    if live:
        out["live"] = count_metrics([(r["expected"], r["got_live"]) for r in rows])
    return out


def format_datasets(res: dict) -> str:
    """Plain-text tables of :func:`evaluate_datasets` results."""
    lines = []
    if "keraal" in res:
        lines.append("KERAAL (correct vs fault; which arm is at fault, over faulty repetitions)")
        for src, r in res["keraal"].items():
            lines.append(f"  {src:10s} n={r['n']:3d}  correct_vs_fault {_pct(r['correct_vs_fault'])}  "
                         f"side {_pct(r['side_accuracy'])}")
            for ex, e in r["per_exercise"].items():
                lines.append(f"    {ex:24s} n={e['n']:3d}  correct_vs_fault {_pct(e['correct_vs_fault'])}  "
                             f"side {_pct(e['side_accuracy'])}")
    if "ui_prmd" in res:
        r = res["ui_prmd"]
        lines.append(f"UI-PRMD correct vs incorrect ({r['protocol']}; references: {r['references']})")
        for key, m in r["movements"].items():
            lines.append(f"  {key} {m['movement']:36s} n={m['n']:3d}  sensitivity {_pct(m['sensitivity'])}  "
                         f"specificity {_pct(m['specificity'])}  balanced accuracy {m['balanced_accuracy']:.3f}")
        lines.append(f"  mean balanced accuracy {r['mean_balanced_accuracy']:.3f}")
    if "repcount" in res:
        r = res["repcount"]
        lines.append("RepCount (class-agnostic counter)")
        for cls, c in list(r["classes"].items()) + [("overall", r["overall"])]:
            live = c.get("live")
            lines.append(f"  {cls:14s} n={c['n']:3d}  MAE {c['mae']:.3f}  OBO {c['obo']:.3f}  exact {c['exact']:.3f}"
                         + (f"   live: MAE {live['mae']:.3f}  OBO {live['obo']:.3f}" if live else ""))
    return "\n".join(lines)


def _pct(v: float | None) -> str:
    return "  n/a" if v is None else f"{100 * v:5.1f}%"


def evaluate_datasets(data: str | Path, which: Iterable[str] = ("keraal", "ui_prmd", "repcount"),
                      cache: str | Path | None = None, model: str = "full", progress: Progress = _identity,
                      live: bool = False) -> dict:
    """Run the chosen landmark-level evaluations on ``data`` (the shared data folder)."""
    data = Path(data)
    cache = Path(cache) if cache else None
    res = {}
    for name in which:
        if name == "keraal":
            res["keraal"] = evaluate_keraal(data, cache, model, progress)
        elif name == "ui_prmd":
            res["ui_prmd"] = evaluate_ui_prmd(data, progress=progress)
        elif name == "repcount":
            res["repcount"] = evaluate_repcount(data, progress=progress, live=live)
        else:
            raise ValueError(f"unknown dataset {name!r}: choose keraal, ui_prmd or repcount")
    return res
