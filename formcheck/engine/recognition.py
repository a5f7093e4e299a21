"""``--exercise auto``: recognise the exercise from the motion among the catalog's specs.

Nothing here is specific to one exercise: every spec is judged by what it declares.

1. Body position, per frame (torso incline, thighs and shins in 3-D when world landmarks exist, arms holding
   the body up, face direction); the shares over the observed frames (standing, seated, kneeling, supine,
   side-lying, prone, quadruped) against the spec's position, and the camera view against the spec's view.
2. A repetition spec's driving signal (the engine's own signal code, on the side that fits best) must sweep
   the spec's rest-to-target range and reach the target, be the joint that moves most (world-space range
   against the most mobile main joint), move with the body's main motion, start near the spec's rest value,
   and the spec's ``keep`` form rules must mostly hold. A hold spec: the share of frames meeting all its hold
   conditions while the body is still.

The best spec scoring at least ``min_score`` is chosen; when none does, the class-agnostic periodic counter
counts the repetitions. :class:`AutoAnalyzer` watches until two clear cycles are seen (or a time limit),
decides, replays what it saw into the chosen analyzer, and delegates from then on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from formcheck.core.events import Event, StateChanged
from formcheck.core.result import Recognition, Series
from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.catalog import list_exercises, load_spec
from formcheck.engine.geometry import SIDES, BodyGeometry
from formcheck.engine.periodic import PeriodicAnalyzer, count_repetitions, pose_features
from formcheck.engine.signals import SignalBank
from formcheck.engine.spec import ExerciseSpec, SpecError
from formcheck.pose.landmarks import L
from formcheck.pose.types import Pose

POSITIONS = ("standing", "seated", "kneeling", "supine", "side-lying", "prone", "quadruped")
# how well an observed position fits a spec's position (1 = same); pairs that cameras easily confuse get 0.6
_NEAR = {
    frozenset(("standing", "kneeling")), frozenset(("seated", "kneeling")), frozenset(("supine", "side-lying")),
    frozenset(("prone", "quadruped")), frozenset(("prone", "side-lying")),
}


def position_fit(observed: dict[str, float], wanted: str) -> float:
    """How well the observed position shares fit a spec position (0..1)."""
    fit = 0.0
    for pos, share in observed.items():
        if pos == wanted:
            fit += share
        elif frozenset((pos, wanted)) in _NEAR:
            fit += 0.6 * share
    return fit


def _incline(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of segment a->b from vertical in the image, degrees (0 = vertical either way)."""
    d = b - a
    return math.degrees(math.atan2(abs(d[0]), abs(d[1]) + 1e-9))


def _world_incline(geo: BodyGeometry, a: tuple[int, int], b: tuple[int, int]) -> float:
    """Angle of the mean segment a->b from vertical in world space (0 = vertical either way), NaN without it."""
    w = geo.world
    d = w[list(b)].mean(0) - w[list(a)].mean(0)
    n = float(np.linalg.norm(d))
    if not n > 1e-6:
        return math.nan
    return math.degrees(math.acos(min(1.0, abs(float(d[1])) / n)))


def frame_position(geo: BodyGeometry) -> str | None:
    """The body position seen on one frame (None when it cannot be told)."""
    if not geo.present or geo.posture == "unknown":
        return None
    px = geo.px
    torso = geo.torso_length
    if not math.isfinite(torso) or torso < 1:
        return None
    hip, knee, ankle = (px[[i, j]].mean(0) for i, j in ((L.LEFT_HIP, L.RIGHT_HIP), (L.LEFT_KNEE, L.RIGHT_KNEE),
                                                          (L.LEFT_ANKLE, L.RIGHT_ANKLE)))
    thigh, shin = _incline(hip, knee), _incline(knee, ankle)
    # in 3-D when the world landmarks are there: a thigh pointing at the camera looks vertical in the image
    thigh_3d = _world_incline(geo, (L.LEFT_HIP, L.RIGHT_HIP), (L.LEFT_KNEE, L.RIGHT_KNEE))
    shin_3d = _world_incline(geo, (L.LEFT_KNEE, L.RIGHT_KNEE), (L.LEFT_ANKLE, L.RIGHT_ANKLE))
    if math.isfinite(thigh_3d) and math.isfinite(shin_3d):
        thigh, shin = thigh_3d, shin_3d
    if geo.posture == "upright":
        # seated: thighs level; facing the camera they point at it, so they also look short in the image
        foreshortened = float(np.linalg.norm(knee - hip)) < 0.5 * torso
        if thigh > 55 or (thigh > 35 and foreshortened):
            return "seated"
        if shin > 60 and thigh < 40:
            return "kneeling"
        return "standing"
    if geo.posture != "lying":
        return None
    shoulder = px[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].mean(0)
    wrist = px[[L.LEFT_WRIST, L.RIGHT_WRIST]].mean(0)
    elbow = px[[L.LEFT_ELBOW, L.RIGHT_ELBOW]].mean(0)
    supported = (elbow[1] - shoulder[1] > 0.3 * torso) and (wrist[1] - shoulder[1] > 0.3 * torso)
    if supported and thigh < 40 and hip[1] < knee[1] - 0.3 * torso:
        return "quadruped"
    ears = px[[L.LEFT_EAR, L.RIGHT_EAR]].mean(0)
    face_down = px[L.NOSE][1] > ears[1] + 0.05 * torso
    if supported or face_down:
        return "prone"
    stack = px[L.LEFT_SHOULDER] - px[L.RIGHT_SHOULDER]
    if abs(stack[1]) > max(abs(stack[0]), 0.3 * torso):  # one shoulder above the other
        return "side-lying"
    return "supine"


def observed_positions(geos: list[BodyGeometry]) -> dict[str, float]:
    """Share of frames in each position (over the frames where a position could be told)."""
    seen = [p for p in (frame_position(g) for g in geos) if p]
    if not seen:
        return {}
    return {p: seen.count(p) / len(seen) for p in POSITIONS if p in seen}


@dataclass
class Candidate:
    exercise: str
    score: float
    parts: dict = field(default_factory=dict)


def _signal_series(spec: ExerciseSpec, geos: list[BodyGeometry], times: list[float]) -> dict[str, dict]:
    """Per-frame values of every signal of a spec, for each side (``None`` for unsided signals)."""
    bank = SignalBank(spec.signals)
    out: dict[str, dict] = {name: {} for name in spec.signals}
    for geo, t in zip(geos, times, strict=True):
        bank.update(geo, t)
        for name in spec.signals:
            for side, v in bank.values[name].items():
                out[name].setdefault(side, []).append(v)
    return {n: {s: np.asarray(v, np.float64) for s, v in d.items()} for n, d in out.items()}


def _robust_range(v: np.ndarray) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if len(v) < 5:
        return math.nan, math.nan
    return float(np.percentile(v, 5)), float(np.percentile(v, 95))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return 0.0
    return float(abs(np.corrcoef(a[ok], b[ok])[0, 1]))


def joint_angle_ranges(geos: list[BodyGeometry]) -> float:
    """The largest robust range (degrees) among the main joint angles (knees, hips, elbows, shoulders): how much
    the most mobile joint moves, to compare a spec's angle signal with."""
    triples = [(L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE), (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE),
               (L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE),
               (L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST),
               (L.LEFT_ELBOW, L.LEFT_SHOULDER, L.LEFT_HIP), (L.RIGHT_ELBOW, L.RIGHT_SHOULDER, L.RIGHT_HIP)]
    present = [g for g in geos if g.present]
    px = np.stack([g.world for g in present])  # world space: a knee bending towards the camera still bends
    if not np.isfinite(px).any():
        px = np.stack([g.px for g in present])
    best = 0.0
    for a, b, c in triples:
        v1, v2 = px[:, a] - px[:, b], px[:, c] - px[:, b]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (v1 * v2).sum(1) / (np.linalg.norm(v1, axis=1) * np.linalg.norm(v2, axis=1))
        ang = np.degrees(np.arccos(np.clip(cos, -1, 1)))
        lo, hi = _robust_range(ang)
        if math.isfinite(lo):
            best = max(best, hi - lo)
    return best


def _world_angles(sig, geos: list[BodyGeometry], side: str | None) -> np.ndarray:
    """A spec's angle signal measured in world space (view-independent), NaN where it cannot be."""
    p = sig.points
    return np.array([g.angle(p[0], p[1], p[2], sig.side or side, "world") if g.present else math.nan
                     for g in geos])


def _rep_fit(spec: ExerciseSpec, series: dict, motions: list[np.ndarray], top_range: float,
             geos: list[BodyGeometry]) -> tuple[float, dict]:
    """How well a repetition spec explains the motion: its signal sweeps rest..target (``sweep``), reaches
    about the target (``reach``), moves with the body's main motion (``motion_corr``) and, for a joint angle,
    is the joint that moves most (``dominance``, range over the most mobile main joint's range)."""
    rep = spec.rep
    assert rep is not None
    lo, hi = sorted((rep.rest, rep.target))
    span = hi - lo
    best: tuple[float, dict] = (0.0, {})
    for side, v in series[rep.signal].items():
        a, b = _robust_range(v)
        if not math.isfinite(a):
            continue
        sweep = max(0.0, min(b, hi) - max(a, lo)) / span
        extreme = b if rep.rising else a
        shortfall = max(0.0, rep.target - extreme) if rep.rising else max(0.0, extreme - rep.target)
        reach = math.exp(-shortfall / span)  # going past the target (a deeper squat) is still the exercise
        corr = max((_corr(v, m) for m in motions), default=0.0)
        sig = spec.signals[rep.signal]
        if sig.kind == "angle" and top_range > 0:
            w = _world_angles(sig, geos, side)
            wa, wb = _robust_range(w)
            moved = (wb - wa) if math.isfinite(wa) else (b - a)
            dominance = min(1.0, moved / top_range)
        else:
            dominance = 0.7
        score = (0.25 * sweep + 0.25 * reach + 0.5 * dominance) * (0.3 + 0.7 * corr)
        rest_fit = _rest_fit(v, rep.rest, rep.target)
        score *= rest_fit
        if score > best[0]:
            best = (score, {"side": side, "sweep": round(sweep, 2), "reach": round(reach, 2),
                            "motion_corr": round(corr, 2), "dominance": round(dominance, 2),
                            "rest_fit": round(rest_fit, 2)})
    phase = _side_phase(spec, series[rep.signal])
    if phase is not None:
        best = (best[0] * (0.8 + 0.2 * phase), {**best[1], "side_phase": round(phase, 2)})
    return best


def _rest_fit(v: np.ndarray, rest: float, target: float) -> float:
    """1 when the signal starts (people start an exercise from its rest position) at or before the spec's
    rest value, less the further past it towards and beyond the target (a standing knee at 170 degrees is no
    rest for a seated knee extension going 125 -> 145)."""
    finite = v[np.isfinite(v)]
    if len(finite) < 10:
        return 1.0
    start = float(np.median(finite[: max(3, len(finite) // 7)]))
    return 0.4 + 0.6 * math.exp(-max(0.0, (start - rest) / (target - rest) - 0.35))


def _side_phase(spec: ExerciseSpec, by_side: dict) -> float | None:
    """For ``both`` / ``alternating`` specs: do the two sides move together (both) or in turn (alternating)?"""
    if spec.side not in ("both", "alternating") or not all(s in by_side for s in SIDES):
        return None
    r = _signed_corr(by_side["left"], by_side["right"])
    if r is None:
        return None
    return max(r, 0.0) if spec.side == "both" else max(-r, 0.0) + 0.5 * (1 - abs(r))


def _signed_corr(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _hold_fit(spec: ExerciseSpec, series: dict, still: float) -> tuple[float, dict]:
    hold = spec.hold
    assert hold is not None
    n = len(next(iter(next(iter(series.values())).values())))
    ok_any = np.zeros(n, bool)
    for side in (*SIDES, None):
        ok = np.ones(n, bool)
        for c in hold.conditions:
            v = series[c.signal].get(side, series[c.signal].get(None))
            if v is None:
                ok[:] = False
                break
            with np.errstate(invalid="ignore"):
                ok &= np.isfinite(v) & (v >= (c.min if c.min is not None else -np.inf)) & (
                    v <= (c.max if c.max is not None else np.inf))
        ok_any |= ok
    share = float(ok_any.mean()) if n else 0.0
    return share * (0.3 + 0.7 * still), {"held_share": round(share, 2), "still": round(still, 2)}


def _rule_compliance(spec: ExerciseSpec, series: dict, side: str | None) -> float | None:
    """Share of the relevant frames where the spec's ``keep`` form rules hold (mean over rules): someone doing
    another exercise breaks them grossly (a bridge "straight leg raise" keeps the knee bent)."""
    rep = spec.rep
    shares = []
    for rule in spec.rules:
        if rule.check != "keep":
            continue
        values = series[rule.signal]
        v = values.get(side, values.get(None)) if side in values or None in values else None
        if v is None:
            v = next(iter(values.values()))
        mask = np.isfinite(v)
        if rep is not None and rule.when != "always":
            drive = series[rep.signal]
            d = drive.get(side, drive.get(None, next(iter(drive.values()))))
            progress = (d - rep.rest) / (rep.target - rep.rest)
            with np.errstate(invalid="ignore"):
                mask &= progress >= (0.25 if rule.when == "moving" else 0.6)
        if mask.sum() < 5:
            continue
        with np.errstate(invalid="ignore"):
            ok = (v[mask] >= (rule.min if rule.min is not None else -np.inf)) & (
                v[mask] <= (rule.max if rule.max is not None else np.inf))
        shares.append(float(ok.mean()))
    return float(np.mean(shares)) if shares else None


def _view_fit(spec: ExerciseSpec, views: dict[str, float]) -> float:
    if spec.camera.view == "any" or not views:
        return 1.0
    return 0.7 + 0.3 * views.get(spec.camera.view, 0.0)


def _main_motion(lms: np.ndarray, aspect: float) -> tuple[np.ndarray, float]:
    """The body's main movement without filtering (first principal component of the hip-relative joint
    positions) and its swing (torso lengths, 5th to 95th percentile)."""
    feats = pose_features(lms, angle_weight=0.0, aspect=aspect)
    ok = np.isfinite(feats).all(axis=1)
    out = np.full(len(feats), np.nan)
    if ok.sum() < 5:
        return out, 0.0
    x = feats[ok] - feats[ok].mean(0)
    _, vectors = np.linalg.eigh(np.einsum("ti,tj->ij", x, x))
    y = x @ vectors[:, -1]
    out[ok] = y
    return out, float(np.percentile(y, 95) - np.percentile(y, 5))


def rank_exercises(poses: list[Pose], exercises: list[str] | None = None) -> tuple[list[Candidate], dict]:
    """Every catalog exercise scored against the observed poses, best first, and the observed positions."""
    present = [p for p in poses if p.present]
    geos = [BodyGeometry(p) for p in poses]
    positions = observed_positions([g for g in geos if g.present])
    if len(present) < 5 or not positions:
        return [], positions
    views = [g.view for g in geos if g.present]
    view_share = {v: views.count(v) / len(views) for v in set(views)}
    lms = np.stack([p.landmarks if p.present else np.full_like(present[0].landmarks, np.nan) for p in poses])
    times = [p.timestamp for p in poses]
    aspect = present[0].image_size[0] / max(present[0].image_size[1], 1)
    periodic = count_repetitions(lms, np.asarray(times), aspect=aspect)
    main, swing = _main_motion(lms, aspect)
    motions = [main] + ([periodic.signal] if periodic.signal is not None else [])
    moving = min(1.0, swing / 0.4)
    top_range = joint_angle_ranges(geos)
    out = []
    for ex in exercises or list_exercises():
        try:
            spec = load_spec(ex)
        except (KeyError, SpecError):  # a broken catalog file must not stop recognition of the others
            continue
        fit = position_fit(positions, spec.position)
        if fit < 0.3:
            continue
        series = _signal_series(spec, geos, times)
        if spec.rep is not None and spec.kind in ("reps", "rate"):
            score, parts = _rep_fit(spec, series, motions, top_range, geos)
            score *= 0.4 + 0.6 * moving
        else:
            score, parts = _hold_fit(spec, series, 1.0 - moving)
        compliance = _rule_compliance(spec, series, parts.get("side"))
        if compliance is not None:
            score *= 0.6 + 0.4 * compliance
            parts["rules_kept"] = round(compliance, 2)
        view = _view_fit(spec, view_share)
        out.append(Candidate(ex, round(score * fit * view, 3), {"position_fit": round(fit, 2), "view_fit": round(
            view, 2), **parts}))
    out.sort(key=lambda c: -c.score)
    return out, positions


class AutoAnalyzer:
    """Observes the person (at least ``decide_after_s``, until two repetitions of a movement are seen or
    ``max_wait_s`` passed), recognises the exercise, replays what it saw into that exercise's analyzer and
    delegates to it (the periodic counter when nothing fits). Two "repetitions" can be the first moments of the
    movement read with tracking jitter; when no exercise fits then, it watches on (ranking again every
    ``retry_s``) and falls back to the periodic counter only at ``max_wait_s`` or the end of the recording.

    ``exercise`` is ``"auto"`` until decided, then the chosen id (``"periodic"`` for the fallback)."""

    def __init__(self, decide_after_s: float = 8.0, max_wait_s: float = 20.0, min_score: float = 0.3,
                 exercises: list[str] | None = None, retry_s: float = 2.0):
        self.decide_after_s, self.max_wait_s, self.retry_s = decide_after_s, max_wait_s, retry_s
        self.min_score, self.exercises = min_score, exercises
        self._next_check = 0.0
        self.exercise = "auto"
        self.candidates: list[Candidate] = []
        self.positions: dict[str, float] = {}
        self._buffer: list[Pose] = []
        self._first_seen: float | None = None
        self._delegate = None
        self._said_watching = False

    @property
    def decided(self) -> bool:
        return self._delegate is not None

    @property
    def delegate(self):
        """The analyzer of the recognised exercise (None until decided)."""
        return self._delegate

    def update(self, pose: Pose) -> list[Event]:
        if self._delegate is not None:
            return self._delegate.update(pose)
        self._buffer.append(pose)
        events: list[Event] = []
        if pose.present and self._first_seen is None:
            self._first_seen = pose.timestamp
        if not self._said_watching and pose.present:
            self._said_watching = True
            events.append(StateChanged(pose.timestamp, "recognising", "start the exercise: recognising it"))
        if self._first_seen is not None and self._ready(pose.timestamp):
            final = pose.timestamp - self._first_seen >= self.max_wait_s
            events += self._decide(pose.timestamp, final)
        return events

    def _ready(self, t: float) -> bool:
        """Enough seen: ``decide_after_s`` with at least two repetitions of some movement, or ``max_wait_s``
        (a hold, or a slow start). Checked once a second (a periodic count over the buffer costs ~20 ms)."""
        waited = t - self._first_seen if self._first_seen is not None else 0.0
        if waited >= self.max_wait_s:
            return True
        if waited < self.decide_after_s or t < self._next_check:
            return False
        self._next_check = t + 1.0
        lms = np.stack([p.landmarks if p.present else np.full((33, 5), np.nan, np.float32) for p in self._buffer])
        seen = count_repetitions(lms, np.array([p.timestamp for p in self._buffer]))
        return seen.count >= 2 and seen.swing >= 0.15  # two clear cycles, not tracking jitter

    def finish(self, t: float) -> list[Event]:
        events = [] if self._delegate is not None else self._decide(t)
        return events + self._delegate.finish(t)

    def series(self) -> Series:
        return self._delegate.series() if self._delegate is not None else {"t": [], "target_band": {}}

    def summary(self) -> dict:
        return self._delegate.summary() if self._delegate is not None else {"reps": 0, "holds": 0}

    def recognition(self) -> Recognition | None:
        """The recognised exercise; its confidence is the winner's fit score (0..1) scaled by its margin over
        the runner-up, so two exercises that fit about equally well give a low confidence."""
        if self._delegate is None:
            return None
        top = tuple((c.exercise, float(c.score)) for c in self.candidates[:3])
        if self.exercise == "periodic":
            best = self.candidates[0].score if self.candidates else 0.0
            return Recognition("periodic", 0.0, "fallback", top) if best < self.min_score else None
        best = self.candidates[0].score
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        margin = (best - second) / best if best > 0 else 0.0
        confidence = min(1.0, best) * (0.5 + 0.5 * margin)
        return Recognition(self.exercise, confidence, "recognised", top)

    def _decide(self, t: float, final: bool = True) -> list[Event]:
        """Rank the exercises on what was seen and delegate; unless ``final``, nothing fitting means watch on."""
        self.candidates, self.positions = rank_exercises(self._buffer, self.exercises)
        best = self.candidates[0] if self.candidates else None
        if not final and (best is None or best.score < self.min_score):
            self._next_check = t + self.retry_s
            return []
        if best is not None and best.score >= self.min_score:
            self._delegate = ExerciseAnalyzer(load_spec(best.exercise))
            self.exercise = best.exercise
            name = self._delegate.spec.name
            message = f"recognised: {name}"
        else:
            self._delegate = PeriodicAnalyzer()
            self.exercise = self._delegate.exercise
            message = "exercise not recognised: counting repetitions of the movement"
        events: list[Event] = []
        for pose in self._buffer:  # what was seen while recognising counts (events keep their times)
            events += self._delegate.update(pose)
        self._buffer = []
        return events + [StateChanged(t, "recognised", message)]
