"""Synthetic stick-figure poses for engine tests: exact joint angles, side or front view, standing or lying."""

from __future__ import annotations

import math

import numpy as np

from formcheck.pose.landmarks import L
from formcheck.pose.types import Pose

SIZE = (1000, 1000)
THIGH = SHIN = 200.0
TORSO = 250.0
UPPER_ARM = FOREARM = 150.0


def _unit(deg: float) -> np.ndarray:
    """Unit vector at ``deg`` degrees clockwise from straight up, in image coordinates (y down)."""
    r = math.radians(deg)
    return np.array([math.sin(r), -math.cos(r)])


def make_pose(points: dict[str, np.ndarray], t: float, depth: float = 12.0, vis: float = 0.99) -> Pose:
    """A pose from side-less point names (hip, knee, ...): the left side is drawn at ``points``, the right side
    ``depth`` pixels to the right (a small depth = side view), both fully visible. World landmarks follow the
    image at 1 m = 400 px, centred on the hips."""
    lms = np.zeros((33, 5), np.float32)
    lms[:, 3:] = vis
    w, h = SIZE
    pairs = {
        "shoulder": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), "elbow": (L.LEFT_ELBOW, L.RIGHT_ELBOW),
        "wrist": (L.LEFT_WRIST, L.RIGHT_WRIST), "index": (L.LEFT_INDEX, L.RIGHT_INDEX),
        "hip": (L.LEFT_HIP, L.RIGHT_HIP), "knee": (L.LEFT_KNEE, L.RIGHT_KNEE), "ankle": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
        "heel": (L.LEFT_HEEL, L.RIGHT_HEEL), "foot": (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX),
        "ear": (L.LEFT_EAR, L.RIGHT_EAR), "eye": (L.LEFT_EYE, L.RIGHT_EYE),
    }
    for name, (li, ri) in pairs.items():
        p = points.get(name, points["shoulder"])
        lms[li, :2] = (p[0] / w, p[1] / h)
        lms[ri, :2] = ((p[0] + depth) / w, p[1] / h)
        lms[li, 2], lms[ri, 2] = -0.1, 0.1
    nose = points.get("nose", points["shoulder"] + np.array([0.0, -60.0]))
    lms[L.NOSE, :2] = nose / np.array(SIZE)
    for i in range(33):  # remaining face / hand points: at the nose or the wrists
        if not lms[i, :2].any():
            lms[i, :2] = lms[L.NOSE, :2]
    hip = (lms[L.LEFT_HIP, :2] + lms[L.RIGHT_HIP, :2]) / 2 * np.array(SIZE)
    world = np.zeros((33, 3), np.float32)
    world[:, :2] = (lms[:, :2] * np.array(SIZE) - hip) / 400.0
    world[:, 2] = np.where(np.isin(np.arange(33), [p[0] for p in pairs.values()]), -0.1, 0.1)
    return Pose(lms, world, t, SIZE)


def standing(t: float, knee_deg: float = 178.0, depth: float = 12.0, trunk_lean: float = 0.0,
             elbow_deg: float = 175.0) -> Pose:
    """Standing (or squatting) figure, seen from the side; ``knee_deg`` is the knee angle."""
    ankle = np.array([500.0, 900.0])
    a = (180.0 - knee_deg) / 2
    knee = ankle + SHIN * _unit(a)
    hip = knee + THIGH * _unit(-a)
    shoulder = hip + TORSO * _unit(trunk_lean)
    elbow = shoulder + UPPER_ARM * _unit(180.0)
    wrist = elbow + FOREARM * _unit(180.0 - (180.0 - elbow_deg))
    foot = ankle + np.array([60.0, 0.0])
    heel = ankle + np.array([-15.0, 5.0])
    return make_pose(dict(ankle=ankle, knee=knee, hip=hip, shoulder=shoulder, elbow=elbow, wrist=wrist, foot=foot,
                          heel=heel, index=wrist, ear=shoulder + np.array([0, -50.0])), t, depth)


def supine(t: float, leg_raise_deg: float = 0.0, knee_deg: float = 178.0, depth: float = 12.0) -> Pose:
    """Lying on the back, seen from the side; the left leg is raised ``leg_raise_deg`` from the floor."""
    hip = np.array([500.0, 700.0])
    shoulder = hip + np.array([-TORSO, 0.0])
    knee = hip + THIGH * _unit(90.0 - leg_raise_deg)
    ankle = knee + SHIN * _unit(90.0 - leg_raise_deg + (180.0 - knee_deg))
    pose = make_pose(dict(hip=hip, shoulder=shoulder, knee=knee, ankle=ankle, elbow=shoulder + [80.0, 0.0],
                          wrist=shoulder + [160.0, 0.0], foot=ankle + [0.0, -40.0], heel=ankle + [-5.0, 10.0],
                          ear=shoulder + [-50.0, 0.0]), t, depth)
    # the right leg stays on the floor
    lms = pose.landmarks.copy()
    for i, p in ((L.RIGHT_KNEE, hip + [THIGH, 0.0]), (L.RIGHT_ANKLE, hip + [THIGH + SHIN, 0.0]),
                 (L.RIGHT_HEEL, hip + [THIGH + SHIN - 5, 10.0]), (L.RIGHT_FOOT_INDEX, hip + [THIGH + SHIN, -40.0])):
        lms[i, :2] = (p[0] + depth) / SIZE[0], p[1] / SIZE[1]
    world = pose.world.copy()
    world[:, :2] = (lms[:, :2] * np.array(SIZE) - (hip + [depth / 2, 0.0])) / 400.0
    return Pose(lms, world, t, SIZE)


def trace(values: list[float], fps: float = 30.0) -> list[tuple[float, float]]:
    return [(i / fps, v) for i, v in enumerate(values)]


def ramp(a: float, b: float, seconds: float, fps: float = 30.0) -> list[float]:
    n = max(2, int(round(seconds * fps)))
    return list(np.linspace(a, b, n))


def reps_trace(rest: float, peak: float, n: int, rep_s: float = 2.0, pause_s: float = 1.0, fps: float = 30.0,
               lead_s: float = 1.0) -> list[float]:
    """``n`` smooth repetitions rest -> peak -> rest with pauses at rest."""
    out = [rest] * int(lead_s * fps)
    for _ in range(n):
        k = int(rep_s * fps)
        out += [rest + (peak - rest) * (1 - math.cos(2 * math.pi * i / k)) / 2 for i in range(k)]
        out += [rest] * int(pause_s * fps)
    return out


def side_lying(t: float, lift_deg: float = 0.0, bottom_knee_deg: float = 178.0) -> Pose:
    """Lying on the right side facing the camera (left side on top); the top leg is lifted ``lift_deg``."""
    lms = np.zeros((33, 5), np.float32)
    lms[:, 3:] = 0.99
    top_hip, bottom_hip = np.array([500.0, 560.0]), np.array([500.0, 640.0])
    pts = {
        L.LEFT_SHOULDER: top_hip + [-TORSO, 0.0], L.RIGHT_SHOULDER: bottom_hip + [-TORSO, 0.0],
        L.LEFT_HIP: top_hip, L.RIGHT_HIP: bottom_hip,
    }
    top_dir = _unit(90.0 - lift_deg)  # straight along the body, rotated upwards by the lift
    pts[L.LEFT_KNEE] = top_hip + THIGH * top_dir
    pts[L.LEFT_ANKLE] = pts[L.LEFT_KNEE] + SHIN * top_dir
    pts[L.RIGHT_KNEE] = bottom_hip + THIGH * _unit(90.0)
    pts[L.RIGHT_ANKLE] = pts[L.RIGHT_KNEE] + SHIN * _unit(90.0 + (180.0 - bottom_knee_deg))
    for i, p in pts.items():
        lms[i, :2] = p / np.array(SIZE)
    extra = {  # arms resting along the top side, feet at the ankles
        L.LEFT_ELBOW: L.LEFT_SHOULDER, L.RIGHT_ELBOW: L.LEFT_SHOULDER, L.LEFT_WRIST: L.LEFT_SHOULDER,
        L.RIGHT_WRIST: L.LEFT_SHOULDER, L.LEFT_HEEL: L.LEFT_ANKLE, L.LEFT_FOOT_INDEX: L.LEFT_ANKLE,
        L.RIGHT_HEEL: L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX: L.RIGHT_ANKLE,
    }
    for i, base in extra.items():
        lms[i, :2] = lms[base, :2]
    for i in range(11):
        lms[i, :2] = (top_hip + [-TORSO - 60.0, 40.0]) / np.array(SIZE)
    world = np.zeros((33, 3), np.float32)
    world[:, :2] = (lms[:, :2] * np.array(SIZE) - [500.0, 600.0]) / 400.0
    return Pose(lms, world, t, SIZE)
