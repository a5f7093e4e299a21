"""Body geometry computed once per frame and shared by every rule: joint angles, heights, body orientation.

Image measurements use pixel coordinates (so the aspect ratio is right); world measurements use MediaPipe's
world landmarks (metres, hip-centred). Image angles are exact for movements in the image plane (side view for
sagittal movements); world angles are estimated in 3-D, so they survive a camera that is not square to the
movement, at the cost of more noise.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from formcheck.pose.landmarks import L
from formcheck.pose.types import Pose

#: Body points by name; paired points have a left and a right landmark.
PAIRED: dict[str, tuple[int, int]] = {
    "eye": (L.LEFT_EYE, L.RIGHT_EYE),
    "ear": (L.LEFT_EAR, L.RIGHT_EAR),
    "shoulder": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "elbow": (L.LEFT_ELBOW, L.RIGHT_ELBOW),
    "wrist": (L.LEFT_WRIST, L.RIGHT_WRIST),
    "index": (L.LEFT_INDEX, L.RIGHT_INDEX),
    "hip": (L.LEFT_HIP, L.RIGHT_HIP),
    "knee": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "ankle": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
    "heel": (L.LEFT_HEEL, L.RIGHT_HEEL),
    "foot": (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX),
}
SINGLE: dict[str, int] = {"nose": L.NOSE}
SIDES = ("left", "right")
OTHER = {"left": "right", "right": "left"}
POINT_PREFIXES = ("left_", "right_", "other_", "mid_")


def point_names() -> list[str]:
    """Every point name a spec may use: ``knee`` (the exercise side), ``other_knee``, ``left_knee``, ``mid_hip``..."""
    names = list(SINGLE)
    for base in PAIRED:
        names += [base] + [p + base for p in POINT_PREFIXES]
    return names


def is_point_name(name: str) -> bool:
    if name in SINGLE or name in PAIRED:
        return True
    for prefix in POINT_PREFIXES:
        if name.startswith(prefix) and name[len(prefix):] in PAIRED:
            return True
    return False


def landmark_indices(name: str, side: str | None) -> tuple[int, ...]:
    """Landmark indices behind a point name (two for ``mid_*``) for the exercise side ``side``."""
    if name in SINGLE:
        return (SINGLE[name],)
    if name.startswith("mid_"):
        return PAIRED[name[4:]]
    for prefix, which in (("left_", "left"), ("right_", "right")):
        if name.startswith(prefix):
            return (PAIRED[name[len(prefix):]][SIDES.index(which)],)
    if name.startswith("other_"):
        side = OTHER[side or "left"]
        name = name[6:]
    return (PAIRED[name][SIDES.index(side or "left")],)


def angle_between(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle ABC at ``b`` in degrees (0..180); NaN when a segment has no length or a point is missing."""
    u = [float(x) - float(y) for x, y in zip(a, b, strict=True)]  # plain floats: faster than numpy for 2-3 values
    v = [float(x) - float(y) for x, y in zip(c, b, strict=True)]
    nu = math.sqrt(sum(x * x for x in u))
    nv = math.sqrt(sum(x * x for x in v))
    if not (nu > 1e-9 and nv > 1e-9):
        return math.nan
    cos = sum(x * y for x, y in zip(u, v, strict=True)) / (nu * nv)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def incline_from_vertical(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the segment a->b from straight up, in degrees: 0 = b above a, 90 = level, 180 = b below a."""
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    if not (abs(dx) + abs(dy) > 1e-9):
        return math.nan
    return math.degrees(math.atan2(abs(dx), -dy))


def _incline_3d(v: np.ndarray) -> float:
    n = float(np.linalg.norm(v))
    if not n > 1e-9:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, -float(v[1]) / n))))


class BodyGeometry:
    """Lazily computed, cached measurements of one pose (create one per frame and share it)."""

    #: a landmark counts as seen above this visibility (MediaPipe's own scores; cross-checked elsewhere)
    MIN_VISIBILITY = 0.5

    def __init__(self, pose: Pose):
        self.pose = pose
        self._cache: dict = {}

    @property
    def present(self) -> bool:
        return self.pose.present

    @cached_property
    def px(self) -> np.ndarray:
        """(33, 2) image positions in pixels."""
        return self.pose.xy_pixels.astype(np.float64)

    @cached_property
    def world(self) -> np.ndarray:
        return self.pose.world.astype(np.float64)

    @cached_property
    def visibility(self) -> np.ndarray:
        return np.nan_to_num(self.pose.visibility.astype(np.float64), nan=0.0)

    @cached_property
    def in_frame(self) -> np.ndarray:
        """(33,) bool: the landmark lies inside the image (with a small margin)."""
        xy = self.pose.landmarks[:, :2]
        with np.errstate(invalid="ignore"):
            return np.all((xy > -0.02) & (xy < 1.02), axis=1)

    def point(self, name: str, side: str | None, space: str = "image") -> np.ndarray:
        key = (name, side, space)
        if key not in self._cache:
            coords = self.px if space == "image" else self.world
            idx = landmark_indices(name, side)
            self._cache[key] = coords[idx[0]] if len(idx) == 1 else (coords[idx[0]] + coords[idx[1]]) * 0.5
        return self._cache[key]

    def seen(self, name: str, side: str | None) -> bool:
        """The point is inside the image and MediaPipe calls it visible."""
        idx = list(landmark_indices(name, side))
        return bool(np.all(self.in_frame[idx]) and np.all(self.visibility[idx] >= self.MIN_VISIBILITY))

    def side_visibility(self, side: str) -> float:
        """Mean visibility of the body landmarks of one side (shoulder to foot)."""
        i = SIDES.index(side)
        idx = [PAIRED[n][i] for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
        return float(self.visibility[idx].mean())

    # --- measurements -------------------------------------------------------------------------------
    def angle(self, a: str, b: str, c: str, side: str | None, space: str = "image") -> float:
        return angle_between(self.point(a, side, space), self.point(b, side, space), self.point(c, side, space))

    def incline(self, a: str, b: str, side: str | None, space: str = "image") -> float:
        """Angle of segment a->b from straight up (degrees), in the image or in world space (3-D, so it does not
        depend on where the camera stands around the person, only on the camera being level)."""
        pa, pb = self.point(a, side, space), self.point(b, side, space)
        if space == "image":
            return incline_from_vertical(pa, pb)
        return _incline_3d(pb - pa)

    def height(self, a: str, b: str, side: str | None, space: str = "image") -> float:
        """How far ``b`` is above ``a`` in torso lengths (negative: below), in the image or in world space."""
        if space == "image":
            return float(self.point(a, side)[1] - self.point(b, side)[1]) / self.scale
        return float(self.point(a, side, space)[1] - self.point(b, side, space)[1]) / self.world_scale

    def distance(self, a: str, b: str, side: str | None, space: str = "image") -> float:
        """Distance between two points in torso lengths."""
        d = float(np.linalg.norm(self.point(a, side, space) - self.point(b, side, space)))
        return d / (self.scale if space == "image" else self.world_scale)

    # --- body-level properties ----------------------------------------------------------------------
    @cached_property
    def torso_length(self) -> float:
        """Mid-shoulder to mid-hip distance in pixels."""
        return float(np.linalg.norm(self.point("mid_shoulder", None) - self.point("mid_hip", None)))

    @cached_property
    def scale(self) -> float:
        """Body scale in pixels: the torso length, or a fallback from the thighs when the torso is foreshortened."""
        thigh = np.mean([np.linalg.norm(self.px[PAIRED["hip"][i]] - self.px[PAIRED["knee"][i]]) for i in (0, 1)])
        s = max(self.torso_length, 1.1 * float(thigh) if np.isfinite(thigh) else 0.0)
        return s if s > 1e-6 else 1.0

    @cached_property
    def world_scale(self) -> float:
        d = float(np.linalg.norm(self.point("mid_shoulder", None, "world") - self.point("mid_hip", None, "world")))
        return d if d > 1e-6 else 0.5

    @cached_property
    def torso_incline(self) -> float:
        """Torso (mid-hip to mid-shoulder) angle from straight up: ~0 upright, ~90 lying. World space when
        available (it does not depend on where the camera stands), else the image."""
        world = self.incline("mid_hip", "mid_shoulder", None, "world")
        if math.isfinite(world):
            return world
        return self.incline("mid_hip", "mid_shoulder", None)

    @cached_property
    def posture(self) -> str:
        """``upright`` (standing, sitting, kneeling), ``lying`` (or on all fours / in a plank), or ``inverted``."""
        inc = self.torso_incline
        if not math.isfinite(inc):
            return "unknown"
        if inc < 50:
            return "upright"
        if inc <= 140:
            return "lying"
        return "inverted"

    @cached_property
    def shoulder_ratio(self) -> float:
        """Image shoulder width over torso length: about 0.6-0.9 facing the camera, below ~0.35 side on."""
        w = float(np.linalg.norm(self.px[L.LEFT_SHOULDER] - self.px[L.RIGHT_SHOULDER]))
        hips = float(np.linalg.norm(self.px[L.LEFT_HIP] - self.px[L.RIGHT_HIP]))
        return max(w, 1.4 * hips) / self.scale

    @cached_property
    def view(self) -> str:
        """Camera view of the body: ``side`` (sideways to the camera) or ``front`` (facing it, or the back)."""
        ratio = self.shoulder_ratio
        if not math.isfinite(ratio):
            return "unknown"
        if self.posture == "lying":
            # lying seen from the side, the far shoulder and hip still show a little above the near ones
            return "side" if ratio < 0.65 else "front"
        return "side" if ratio < 0.45 else "front"

    @cached_property
    def near_side(self) -> str:
        """The side closer to the camera (MediaPipe world z, negative towards the camera), visibility as a tiebreak."""
        z = self.world[:, 2]
        left = float(z[L.LEFT_SHOULDER] + z[L.LEFT_HIP] + z[L.LEFT_KNEE]) / 3
        right = float(z[L.RIGHT_SHOULDER] + z[L.RIGHT_HIP] + z[L.RIGHT_KNEE]) / 3
        if math.isfinite(left) and math.isfinite(right) and abs(left - right) > 0.05:
            return "left" if left < right else "right"
        return "left" if self.side_visibility("left") >= self.side_visibility("right") else "right"

    def limb_plausible(self, side: str) -> bool:
        """Geometry cross-check of a side's leg (visibility is unreliable for hidden joints): thigh and shin
        lengths must be sensible against the torso in world space."""
        i = SIDES.index(side)
        w = self.world
        hip, knee, ankle = (w[PAIRED[n][i]] for n in ("hip", "knee", "ankle"))
        thigh, shin = np.linalg.norm(knee - hip), np.linalg.norm(ankle - knee)
        t = self.world_scale
        return bool(0.4 * t < thigh < 1.8 * t and 0.4 * t < shin < 1.8 * t)
