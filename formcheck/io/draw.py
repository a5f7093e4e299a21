"""Overlays drawn on BGR frames: skeleton, joints coloured by form, and short text."""

from __future__ import annotations

import cv2
import numpy as np

from formcheck.pose.landmarks import CONNECTIONS
from formcheck.pose.types import Pose

GOOD = (80, 200, 60)  # BGR
WARN = (0, 140, 255)
BAD = (40, 40, 230)
BONE = (235, 235, 235)
OUTLINE = (25, 25, 25)  # drawn under bones and joints so the light skeleton shows on white backgrounds too
TEXT_BG = (30, 30, 30)


def draw_skeleton(
    image: np.ndarray,
    pose: Pose,
    flagged: frozenset[int] | set[int] = frozenset(),
    min_visibility: float = 0.3,
    mirror: bool = False,
) -> np.ndarray:
    """Draw bones and joints in place; joints in ``flagged`` are drawn in the warning colour."""
    if not pose.present:
        return image
    h, w = image.shape[:2]
    pts = pose.landmarks[:, :2] * np.array([w, h], np.float32)
    if mirror:
        pts[:, 0] = w - pts[:, 0]
    vis = pose.landmarks[:, 3]
    thick = max(2, round(min(w, h) / 220))
    radius = thick + 2
    ipts = np.nan_to_num(pts, nan=-1).astype(np.int32)
    bones = [(a, b) for a, b in CONNECTIONS if vis[a] >= min_visibility and vis[b] >= min_visibility]
    joints = [i for i in range(11, 33) if vis[i] >= min_visibility]
    edge = max(2, thick // 2)  # the dark outline's width on each side
    for a, b in bones:
        cv2.line(image, tuple(ipts[a]), tuple(ipts[b]), OUTLINE, thick + 2 * edge, cv2.LINE_AA)
    for i in joints:
        cv2.circle(image, tuple(ipts[i]), radius + edge, OUTLINE, -1, cv2.LINE_AA)
    for a, b in bones:
        color = WARN if (a in flagged and b in flagged) else BONE
        cv2.line(image, tuple(ipts[a]), tuple(ipts[b]), color, thick, cv2.LINE_AA)
    for i in joints:
        cv2.circle(image, tuple(ipts[i]), radius, WARN if i in flagged else GOOD, -1, cv2.LINE_AA)
    return image


def draw_label(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    scale: float = 0.7,
    color: tuple[int, int, int] = (255, 255, 255),
    bg: tuple[int, int, int] | None = TEXT_BG,
    thickness: int = 2,
) -> tuple[int, int]:
    """Text on a filled box for readability over video; returns the box's (width, height)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    x, y = origin
    pad = max(4, int(6 * scale))
    if bg is not None:
        cv2.rectangle(image, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), bg, -1)
    cv2.putText(image, text, (x + pad, y + pad + th), font, scale, color, thickness, cv2.LINE_AA)
    return tw + 2 * pad, th + base + 2 * pad
