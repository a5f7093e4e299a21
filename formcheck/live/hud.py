"""The live preview: the (mirrored) camera image fitted into a fixed-size canvas with the coaching HUD on top.

:func:`render` draws a :class:`formcheck.coaching.view.HudView` over one frame; everything scales with the canvas, so
the text stays readable at 640x480 and 1280x720. Only OpenCV primitives: a few milliseconds per frame.
"""

from __future__ import annotations

import textwrap

import cv2
import numpy as np

from formcheck.coaching.view import HudView
from formcheck.io.draw import GOOD, WARN
from formcheck.pose.landmarks import CONNECTIONS
from formcheck.pose.types import Pose

FONT = cv2.FONT_HERSHEY_DUPLEX
WHITE = (255, 255, 255)
GREY = (190, 190, 190)
PANEL = (32, 32, 32)
ACCENT = (255, 200, 80)  # BGR: light blue
PAUSE_BG = (120, 80, 20)
PAIN = (60, 60, 220)
BONE = (235, 235, 235)
KEYS_HELP = {
    "exercise": "space pause   r redo set   n next   p pain stop   m mute   q quit",
    "howto": "enter start now   space pause   n skip   p pain stop   m mute   q quit",
    "rest": "enter go on now   space pause   n next exercise   p pain stop   m mute   q quit",
}
_ASCII = str.maketrans({"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "·": "-",
                        "°": " deg", "×": "x"})


def ascii_text(text: str) -> str:
    """OpenCV's fonts draw ASCII only."""
    return text.translate(_ASCII).encode("ascii", "replace").decode()


class Layout:
    """Sizes derived from the canvas: ``u`` is 1 at 720 px of the shorter side."""

    def __init__(self, width: int, height: int):
        self.w, self.h = width, height
        self.u = min(width, height) / 720
        self.small = max(0.45, 0.6 * self.u)
        self.normal = max(0.6, 0.85 * self.u)
        self.large = max(0.9, 1.3 * self.u)
        self.huge = max(1.6, 2.6 * self.u)
        self.pad = max(6, round(12 * self.u))
        self.thick = max(1, round(2 * self.u))


def text_size(text: str, scale: float, thickness: int) -> tuple[int, int]:
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    return w, h + base


def put(canvas, text, org, scale, color=WHITE, thickness=1, bg=None, pad=0) -> tuple[int, int]:
    """Text whose top-left corner is ``org`` (optionally on a filled box); returns (width, height) used."""
    text = ascii_text(text)
    w, h = text_size(text, scale, thickness)
    x, y = int(org[0]), int(org[1])
    if bg is not None:
        cv2.rectangle(canvas, (x, y), (x + w + 2 * pad, y + h + 2 * pad), bg, -1)
    base = cv2.getTextSize(text, FONT, scale, thickness)[1]
    cv2.putText(canvas, text, (x + pad, y + pad + h - base), FONT, scale, color, thickness, cv2.LINE_AA)
    return w + 2 * pad, h + 2 * pad


def wrap(text: str, scale: float, thickness: int, max_width: int) -> list[str]:
    """Greedy word wrap to a pixel width."""
    char_w = max(1, text_size("n", scale, thickness)[0])
    width = max(10, max_width // char_w)
    lines = textwrap.wrap(ascii_text(text), width)
    while lines and width > 10 and max(text_size(s, scale, thickness)[0] for s in lines) > max_width:
        width -= 2
        lines = textwrap.wrap(ascii_text(text), width)
    return lines


def shade(canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.55) -> None:
    """Darken a rectangle so text on it reads well over video."""
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(canvas.shape[1], x1), min(canvas.shape[0], y1)
    if x1 > x0 and y1 > y0:
        roi = canvas[y0:y1, x0:x1]
        cv2.convertScaleAbs(roi, dst=roi, alpha=1 - alpha)


def fit_frame(image: np.ndarray, size: tuple[int, int], mirror: bool) -> tuple[np.ndarray, tuple[float, int, int]]:
    """The frame scaled into a canvas of ``size`` (letterboxed), mirrored if asked; returns (canvas, (s, ox, oy))."""
    cw, ch = size
    h, w = image.shape[:2]
    s = min(cw / w, ch / h)
    rw, rh = max(1, round(w * s)), max(1, round(h * s))
    ox, oy = (cw - rw) // 2, (ch - rh) // 2
    canvas = np.zeros((ch, cw, 3), np.uint8)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (rw, rh), interpolation=interp)
    if mirror:
        cv2.flip(resized, 1, dst=resized)
    canvas[oy : oy + rh, ox : ox + rw] = resized
    return canvas, (s, ox, oy)


def joint_pixels(pose: Pose, transform: tuple[float, int, int], mirror: bool) -> np.ndarray:
    """(33, 2) landmark positions on the canvas (NaN when nobody is seen)."""
    s, ox, oy = transform
    w, h = pose.image_size
    pts = pose.landmarks[:, :2].astype(np.float32) * np.array([w * s, h * s], np.float32)
    if mirror:
        pts[:, 0] = w * s - pts[:, 0]
    return pts + np.array([ox, oy], np.float32)


def draw_pose(canvas: np.ndarray, pts: np.ndarray, pose: Pose, flagged: frozenset[int], lay: Layout) -> None:
    """Bones, and joints coloured by form: good (green) or flagged by a form rule (orange)."""
    vis = pose.landmarks[:, 3]
    ok = (vis >= 0.3) & np.isfinite(pts).all(1)
    ipts = np.nan_to_num(pts, nan=-1).astype(np.int32)
    thick = max(2, round(3 * lay.u))
    for a, b in CONNECTIONS:
        if ok[a] and ok[b]:
            color = WARN if (a in flagged and b in flagged) else BONE
            cv2.line(canvas, tuple(ipts[a]), tuple(ipts[b]), color, thick, cv2.LINE_AA)
    radius = thick + 3
    for i in range(11, 33):
        if ok[i]:
            cv2.circle(canvas, tuple(ipts[i]), radius, WARN if i in flagged else GOOD, -1, cv2.LINE_AA)


def draw_ring(canvas, center, radius, fraction, lay: Layout, label: str, sub: str, done: bool) -> None:
    """A hold progress ring with the seconds held in the middle and the target under it."""
    thick = max(4, round(14 * lay.u))
    cv2.circle(canvas, center, radius, (70, 70, 70), thick, cv2.LINE_AA)
    if fraction > 0:
        cv2.ellipse(canvas, center, (radius, radius), -90, 0, 360 * min(1.0, fraction), GOOD if done else ACCENT,
                    thick, cv2.LINE_AA)
    w, h = text_size(label, lay.large, lay.thick + 1)
    put(canvas, label, (center[0] - w // 2, center[1] - h + 2), lay.large, WHITE, lay.thick + 1)
    w2, _ = text_size(sub, lay.small, 1)
    put(canvas, sub, (center[0] - w2 // 2, center[1] + 4), lay.small, GREY, 1)


def render(
    image: np.ndarray | None,
    pose: Pose | None,
    view: HudView,
    *,
    size: tuple[int, int] = (1280, 720),
    mirror: bool = True,
    fps: float | None = None,
    model: str = "",
    muted: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The preview canvas for one frame, and the canvas positions of the drawn joints (None if no pose drawn)."""
    lay = Layout(*size)
    if image is None:
        canvas, transform = np.zeros((size[1], size[0], 3), np.uint8), (1.0, 0, 0)
    else:
        canvas, transform = fit_frame(image, size, mirror)
    pts = None
    phase = view.phase
    if phase in ("summary", "done", "pain_rating", "pain_location", "pain_advice"):
        shade(canvas, 0, 0, lay.w, lay.h, 0.75)
    elif pose is not None and pose.present:
        pts = joint_pixels(pose, transform, mirror)
        draw_pose(canvas, pts, pose, view.flagged_joints, lay)

    _status_line(canvas, lay, fps, model, muted)
    if phase == "exercise":
        _exercise_panel(canvas, lay, view)
        _bottom_message(canvas, lay, view)
    elif phase == "howto":
        _howto(canvas, lay, view)
    elif phase == "rest":
        _rest(canvas, lay, view)
    elif phase in ("pain_rating", "pain_location", "pain_advice"):
        _pain(canvas, lay, view)
    elif phase in ("summary", "done"):
        _summary(canvas, lay, view)
    if view.paused:
        _banner(canvas, lay, "Paused - press space to resume", PAUSE_BG)
    if phase in KEYS_HELP:
        help_text = KEYS_HELP[phase]
        w, _ = text_size(help_text, lay.small * 0.85, 1)
        put(canvas, help_text, ((lay.w - w) // 2 - 4, lay.h - text_size("Ag", lay.small * 0.85, 1)[1] - 8),
            lay.small * 0.85, GREY, 1, bg=PANEL, pad=4)
    return canvas, pts


def _status_line(canvas, lay: Layout, fps, model, muted) -> None:
    parts = []
    if fps is not None:
        parts.append(f"{fps:4.1f} fps")
    if model:
        parts.append(f"model {model}")
    if muted:
        parts.append("muted")
    if not parts:
        return
    text = "   ".join(parts)
    w, _ = text_size(text, lay.small, 1)
    put(canvas, text, (lay.w - w - 2 * lay.pad - 4, 4), lay.small, WHITE, 1, bg=PANEL, pad=lay.pad // 2)


def _title(view: HudView) -> str:
    prefix = "Warm-up: " if view.warmup else ""
    return f"{prefix}{view.name}"


def _exercise_panel(canvas, lay: Layout, view: HudView) -> None:
    x, y = lay.pad, lay.pad
    lines: list[tuple[str, float, tuple, int]] = [(_title(view), lay.normal, WHITE, lay.thick)]
    if view.items > 1:
        lines.append((f"Exercise {view.item_index + 1} of {view.items}   Set {view.set_index} of {view.sets}",
                      lay.small, GREY, 1))
    elif view.sets > 1:
        lines.append((f"Set {view.set_index} of {view.sets}", lay.small, GREY, 1))
    hold_kind = view.kind == "hold" or (view.hold_target_s and not view.target_reps)
    count = None
    if not hold_kind:
        count = f"{view.reps} / {view.target_reps}" if view.target_reps else f"{view.reps}"
    widths = [text_size(ascii_text(t), s, th)[0] for t, s, _, th in lines]
    if count is not None:
        widths.append(text_size(count, lay.huge, lay.thick + 2)[0] + text_size(" reps", lay.normal, 1)[0])
    width = max(widths) + 2 * lay.pad
    height = sum(text_size("Ag", s, th)[1] + lay.pad // 2 for _, s, _, th in lines) + 2 * lay.pad
    if count is not None:
        height += text_size(count, lay.huge, lay.thick + 2)[1] + lay.pad
    if view.last_score is not None and not hold_kind:
        height += text_size("Ag", lay.small, 1)[1] + lay.pad // 2
    shade(canvas, x, y, x + width, y + height, 0.6)
    cy = y + lay.pad
    for text, scale, color, th in lines:
        _, h = put(canvas, text, (x + lay.pad, cy), scale, color, th)
        cy += h + lay.pad // 2
    if count is not None:
        w, h = put(canvas, count, (x + lay.pad, cy), lay.huge, WHITE, lay.thick + 2)
        put(canvas, " reps", (x + lay.pad + w, cy + h - text_size("Ag", lay.normal, 1)[1]), lay.normal, GREY, 1)
        cy += h + lay.pad
        if view.last_score is not None:
            score_color = GOOD if view.last_score >= 80 else WARN
            put(canvas, f"last rep {view.last_score:.0f}/100", (x + lay.pad, cy), lay.small, score_color, 1)
    if hold_kind or view.hold_s > 0:
        target = view.hold_target_s or 0
        radius = round(70 * lay.u) if not hold_kind else round(95 * lay.u)
        center = (lay.w - radius - 2 * lay.pad, round(60 * lay.u) + radius + lay.pad)
        shade(canvas, center[0] - radius - lay.pad, center[1] - radius - lay.pad, center[0] + radius + lay.pad,
              center[1] + radius + lay.pad, 0.45)
        fraction = view.hold_s / target if target else 0.0
        sub = f"of {target:.0f} s" if target else "held"
        draw_ring(canvas, center, radius, fraction, lay, f"{view.hold_s:.0f} s", sub, bool(target)
                  and view.hold_s >= target)


def _banner(canvas, lay: Layout, text: str, bg, y: int | None = None, scale: float | None = None) -> int:
    scale = scale or lay.large
    lines = wrap(text, scale, lay.thick, lay.w - 6 * lay.pad)
    line_h = text_size("Ag", scale, lay.thick)[1] + lay.pad // 2
    total = line_h * len(lines) + 2 * lay.pad
    if y is None:
        y = lay.h - total - round(50 * lay.u)
    cv2.rectangle(canvas, (0, y), (lay.w, y + total), bg, -1)
    cy = y + lay.pad
    for line in lines:
        w, _ = text_size(line, scale, lay.thick)
        put(canvas, line, ((lay.w - w) // 2, cy), scale, WHITE, lay.thick)
        cy += line_h
    return total


def _bottom_message(canvas, lay: Layout, view: HudView) -> None:
    if view.paused:
        return
    if view.cue:
        _banner(canvas, lay, view.cue, (0, 110, 230))
    elif view.message:
        _banner(canvas, lay, view.message, PAUSE_BG)


def _centered_block(canvas, lay: Layout, blocks: list[tuple[str, float, tuple, int]], top: int | None = None) -> None:
    """Lines (text, scale, colour, thickness) centred on a shaded panel; long lines wrap."""
    max_w = lay.w - 8 * lay.pad
    rendered = []
    for text, scale, color, th in blocks:
        for line in wrap(text, scale, th, max_w) or [""]:
            rendered.append((line, scale, color, th, text_size(line or "Ag", scale, th)))
    height = sum(sz[1] + lay.pad // 2 for *_, sz in rendered) + 2 * lay.pad
    width = min(lay.w - 2 * lay.pad, max(sz[0] for *_, sz in rendered) + 4 * lay.pad)
    x0 = (lay.w - width) // 2
    y0 = top if top is not None else max(lay.pad, (lay.h - height) // 2)
    shade(canvas, x0, y0, x0 + width, y0 + height, 0.7)
    cy = y0 + lay.pad
    for line, scale, color, th, (w, h) in rendered:
        put(canvas, line, ((lay.w - w) // 2, cy), scale, color, th)
        cy += h + lay.pad // 2


def _howto(canvas, lay: Layout, view: HudView) -> None:
    head = "Warm-up" if view.warmup else f"Exercise {view.item_index + 1} of {view.items}"
    target = []
    if view.target_reps:
        target.append(f"{view.target_reps} repetitions")
    if view.hold_target_s:
        target.append(f"hold {view.hold_target_s:.0f} s")
    if view.sets > 1:
        target.append(f"{view.sets} sets")
    blocks = [(head, lay.normal, GREY, 1), (view.name, lay.large, WHITE, lay.thick + 1),
              (", ".join(target), lay.normal, ACCENT, lay.thick)]
    blocks += [(f"- {line}", lay.normal * 0.9, WHITE, 1) for line in view.instructions[:4]]
    if view.camera:
        blocks.append((f"Camera: {view.camera}", lay.normal * 0.9, ACCENT, 1))
    if view.timer_s is not None:
        blocks.append((f"Starting in {view.timer_s:.0f} s - press enter to start now", lay.normal, GOOD, lay.thick))
    _centered_block(canvas, lay, blocks)


def _rest(canvas, lay: Layout, view: HudView) -> None:
    seconds = view.timer_s or 0.0
    blocks = [("Rest", lay.large, WHITE, lay.thick), (f"{int(seconds) // 60}:{int(seconds) % 60:02d}", lay.huge * 1.3,
                                                       ACCENT, lay.thick + 3)]
    if view.next_name:
        blocks.append((f"Next: {view.next_name}", lay.normal, WHITE, 1))
    blocks.append(("press enter to go on now", lay.small, GREY, 1))
    _centered_block(canvas, lay, blocks)


def _pain(canvas, lay: Layout, view: HudView) -> None:
    if view.phase == "pain_rating":
        rating = "-" if view.pain_rating is None else str(view.pain_rating)
        blocks = [
            ("Exercise stopped", lay.large, (120, 120, 255), lay.thick + 1),
            ("How strong is the pain? 0 = none, 10 = worst imaginable", lay.normal, WHITE, 1),
            (rating, lay.huge * 1.4, ACCENT, lay.thick + 3),
            ("press 0-9 (+ for 10), then enter", lay.normal, GREY, 1),
        ]
    elif view.phase == "pain_location":
        blocks = [("Where is the pain?", lay.large, WHITE, lay.thick + 1)]
        blocks += [(f"{i}  {name}", lay.normal, WHITE, 1) for i, name in enumerate(view.pain_locations, 1)]
        blocks.append(("press the number", lay.small, GREY, 1))
    else:
        blocks = [
            ("Pain recorded", lay.large, (120, 120, 255), lay.thick + 1),
            (view.advice, lay.normal, WHITE, 1),
            ("press enter for the summary", lay.small, GREY, 1),
        ]
    _centered_block(canvas, lay, blocks)


def _summary(canvas, lay: Layout, view: HudView) -> None:
    ended = {"pain": "Session stopped for pain", "quit": "Session ended early", "interrupted": "Camera stopped",
             "source ended": "Video ended", "window closed": "Session ended"}.get(view.ended_by, "Session complete")
    top = text_size("Ag", lay.small, 1)[1] + 2 * lay.pad
    _, h = put(canvas, ended, ((lay.w - text_size(ended, lay.large, lay.thick + 1)[0]) // 2, top), lay.large, WHITE,
               lay.thick + 1)
    y = top + h + lay.pad
    rows = [_summary_cells(r) for r in view.summary[:12]]
    header = ("Exercise", "Reps", "Holds", "Sets", "Score", "Warnings", "Pain")
    scale = lay.normal * 0.8
    while True:
        widths = [max(text_size(row[i], scale, 1)[0] for row in [header, *rows]) for i in range(len(header))]
        if sum(widths) + lay.pad * (len(widths) + 3) <= lay.w or scale < 0.35:
            break
        scale *= 0.9
    gap = lay.pad
    total_w = sum(widths) + gap * (len(widths) - 1)
    x0 = max(0, (lay.w - total_w) // 2)
    line_h = text_size("Ag", scale, 1)[1] + lay.pad // 2
    shade(canvas, x0 - lay.pad, y - lay.pad // 2, x0 + total_w + lay.pad, y + line_h * (len(rows) + 1) + lay.pad, 0.7)
    for r, cells in enumerate([header, *rows]):
        x = x0
        color = GREY if r == 0 else (WHITE if view.summary[r - 1]["sets_done"] else GREY)
        for i, cell in enumerate(cells):
            if cell:
                put(canvas, cell, (x, y), scale, ACCENT if r == 0 else color, 1)
            x += widths[i] + gap
        y += line_h
    y += lay.pad
    notes = []
    if view.notice:
        notes.append((view.notice, lay.small, WARN, 1))
    if view.ended_by == "pain":
        notes.append(("Please see a clinician before you continue.", lay.normal * 0.9, (120, 120, 255), lay.thick))
    notes.append(("press q to close", lay.small, GREY, 1))
    _centered_block(canvas, lay, notes, top=min(y, lay.h - 4 * line_h))


def _summary_cells(row: dict) -> tuple[str, ...]:
    name = row["name"] if len(row["name"]) <= 24 else row["name"][:23] + "."
    if row["target_reps"]:
        reps = f"{row['reps']}/{row['target_reps']}"
    else:
        reps = str(row["reps"]) if row["reps"] else "-"
    holds = "-"
    if row["holds_s"] or row["hold_target_s"]:
        best = max(row["holds_s"], default=0)
        target = f"/{row['hold_target_s']:.0f}" if row["hold_target_s"] else ""
        holds = f"{len(row['holds_s'])} (best {best:.0f}{target} s)"
    score = f"{row['avg_score']:.0f}" if row["avg_score"] is not None else "-"
    pain = ", ".join(f"{p}/10" for p in row["pain"]) or "-"
    return (name, reps, holds, f"{row['sets_done']}/{row['sets_planned']}", score, str(row["warnings"]), pain)
