"""``formcheck inspect``: a spec's signals over time against its thresholds, what was counted and why not.

For a therapist tuning a spec on a real clip: every signal the spec measures (on the side the analyzer followed),
the repetition's rest and target lines, the hold's bounds and the rules' bounds; the repetitions, holds and
warnings found; the margin by which each repetition passed its target and each hold stayed inside its bounds;
and the movements that were not counted, with how far short of the target they stayed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from formcheck.core.events import FormWarning, HoldCompleted, RepCompleted
from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.spec import ExerciseSpec
from formcheck.pose.types import Pose


@dataclass
class Trace:
    """What the analyzer measured and found on one clip."""

    spec: ExerciseSpec
    t: np.ndarray
    signals: dict[str, np.ndarray]  # name -> value per frame (NaN where not measured)
    states: list[str]
    reps: list[RepCompleted] = field(default_factory=list)
    holds: list[HoldCompleted] = field(default_factory=list)
    warnings: list[FormWarning] = field(default_factory=list)


def trace(poses: list[Pose], spec: ExerciseSpec) -> Trace:
    """Replay the poses through the spec's analyzer, keeping every signal's value on every frame."""
    analyzer = ExerciseAnalyzer(spec)
    t, states = [], []
    values: dict[str, list[float]] = {n: [] for n in spec.signals}
    events = []
    for pose in poses:
        events += analyzer.update(pose)
        t.append(pose.timestamp)
        states.append(analyzer.state)
        side = analyzer.followed_side
        for name in spec.signals:
            key = side if analyzer.bank.sided[name] else None
            trusted = analyzer.bank.trust[name].get(key)
            values[name].append(analyzer.bank.value(name, side) if trusted else math.nan)
    if poses:
        events += analyzer.finish(poses[-1].timestamp)
    return Trace(spec, np.asarray(t), {n: np.asarray(v, float) for n, v in values.items()}, states,
                 [e for e in events if isinstance(e, RepCompleted)],
                 [e for e in events if isinstance(e, HoldCompleted)],
                 [e for e in events if isinstance(e, FormWarning)])


def _window(tr: Trace, name: str, start: float, end: float) -> np.ndarray:
    v = tr.signals[name][(tr.t >= start) & (tr.t <= end)]
    return v[np.isfinite(v)]


def rep_margins(tr: Trace) -> list[str]:
    """Per repetition: the furthest value reached and how far past the target it went."""
    rep = tr.spec.rep
    out = []
    for r in tr.reps:
        v = _window(tr, rep.signal, r.start_s, r.end_s) if rep else np.array([])
        if not len(v) or "counted_by" in r.score_parts:
            out.append(f"rep {r.index} {r.start_s:.1f}-{r.end_s:.1f} s: counted by the periodic counter")
            continue
        best = v.max() if rep.rising else v.min()
        past = (best - rep.target) if rep.rising else (rep.target - best)
        out.append(f"rep {r.index} {r.start_s:.1f}-{r.end_s:.1f} s: {rep.signal} reached {best:.1f} "
                   f"(target {rep.target:g}): {past:+.1f} past it")
    return out


def hold_margins(tr: Trace) -> list[str]:
    """Per hold: for each condition, the closest the signal came to its bound while holding."""
    out = []
    for h in tr.holds:
        parts = []
        if tr.spec.hold is None:  # a hold at a repetition's target (rep.hold_s): the signal's range while held
            v = _window(tr, tr.spec.rep.signal, h.start_s, h.end_s)
            parts.append(f"{tr.spec.rep.signal} {v.min():.1f}-{v.max():.1f} (target {tr.spec.rep.target:g})"
                         if len(v) else f"{tr.spec.rep.signal} not measured")
        for c in tr.spec.hold.conditions if tr.spec.hold else ():
            v = _window(tr, c.signal, h.start_s, h.end_s)
            if not len(v):
                parts.append(f"{c.signal} not measured")
                continue
            room = min(x for x in ((v.min() - c.min) if c.min is not None else math.inf,
                                   (c.max - v.max()) if c.max is not None else math.inf))
            parts.append(f"{c.signal} {room:+.1f} inside")
        out.append(f"hold {h.start_s:.1f}-{h.end_s:.1f} s ({h.duration_s:.1f} s): " + ", ".join(parts))
    return out


def near_misses(tr: Trace) -> list[str]:
    """Movements that left the rest position but stayed short of the target (not counted), with how far short."""
    rep = tr.spec.rep
    if rep is None:
        return []
    v = tr.signals[rep.signal]
    sign = 1.0 if rep.rising else -1.0
    away = sign * (v - rep.rest) > rep.hysteresis  # outside the rest band, towards the target
    counted = [(r.start_s, r.end_s) for r in tr.reps]
    out = []
    i, n = 0, len(v)
    while i < n:
        if not away[i]:
            i += 1
            continue
        j = i
        while j < n and (away[j] or not np.isfinite(v[j])):
            j += 1
        seg = v[i:j][np.isfinite(v[i:j])]
        start, end = float(tr.t[i]), float(tr.t[j - 1])
        if len(seg) and not any(s - 0.5 <= start and end <= e + 0.5 for s, e in counted):
            best = seg.max() if rep.rising else seg.min()
            short = sign * (rep.target - best)
            if short > 0:
                states = set(tr.states[i:j]) - {"active", "resting"}
                why = f"; state {', '.join(sorted(states))}" if states else ""
                out.append(f"{start:.1f}-{end:.1f} s: {rep.signal} reached {best:.1f}, {short:.1f} short of the "
                           f"target {rep.target:g}{why}")
        i = j
    return out


def report(tr: Trace) -> str:
    lines = [f"{tr.spec.name} ({tr.spec.id}): {len(tr.reps)} repetitions, {len(tr.holds)} holds, "
             f"{len(tr.warnings)} warnings"]
    lines += ["  " + x for x in rep_margins(tr) + hold_margins(tr)]
    misses = near_misses(tr)
    if misses:
        lines.append("not counted:")
        lines += ["  " + x for x in misses]
    for w in tr.warnings:
        lines.append(f"  warning {w.t:.1f} s {w.rule} (confidence {w.confidence:.2f}): {w.message}")
    return "\n".join(lines)


def plot(tr: Trace, path: str | Path) -> Path:
    """A PNG: one panel per signal with its thresholds, repetitions (green), holds (blue), warnings (red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec, path = tr.spec, Path(path)
    names = list(spec.signals)
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.2 * len(names) + 0.6), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        ax.plot(tr.t, tr.signals[name], color="#333", lw=1.2)
        ax.set_ylabel(name)
        if spec.rep is not None and spec.rep.signal == name:
            ax.axhline(spec.rep.rest, color="#2a7", ls="--", lw=1, label=f"rest {spec.rep.rest:g}")
            ax.axhline(spec.rep.target, color="#2a7", ls="-", lw=1, label=f"target {spec.rep.target:g}")
        for c in spec.hold.conditions if spec.hold else ():
            if c.signal == name:
                for b in (c.min, c.max):
                    if b is not None:
                        ax.axhline(b, color="#36c", ls="-", lw=1, label=f"hold bound {b:g}")
        for r in spec.rules:
            if r.signal == name:
                for b in (r.min, r.max):
                    if b is not None:
                        ax.axhline(b, color="#c33", ls=":", lw=1, label=f"{r.id} {b:g}")
        for r in tr.reps:
            ax.axvspan(r.start_s, r.end_s, color="#2a7", alpha=0.15)
        for h in tr.holds:
            ax.axvspan(h.start_s, h.end_s, color="#36c", alpha=0.12)
        for w in tr.warnings:
            ax.axvline(w.t, color="#c33", lw=1, alpha=0.7)
        idle = np.array([s not in ("active", "resting") for s in tr.states])
        if idle.any():
            ax.fill_between(tr.t, 0, 1, where=idle, transform=ax.get_xaxis_transform(), color="#999", alpha=0.12,
                            lw=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time (s)   green: repetitions, blue: holds, red: warnings, grey: not counting")
    fig.suptitle(f"{spec.name}: {len(tr.reps)} repetitions, {len(tr.holds)} holds", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
