"""Hold timer: runs while the target pose is held, tolerating brief breaks and tracking dropouts."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Hold:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class HoldTimer:
    """Feed ``update(t, ok)`` per frame: ``ok`` True (pose held), False (not held) or None (not measurable).

    A hold starts at the first held frame and ends at the last held frame before a break longer than
    ``dropout_s``; breaks up to ``dropout_s`` (a wobble, a lost frame) are bridged and count as held time.
    Not measurable is not a break: a gap with nothing but unmeasurable frames is bridged up to ``lost_s``
    (default twice ``dropout_s``) when the pose is held again after it, and up to ``occluded_s`` when the
    person stayed in view all along and only the hold could not be measured (a close-up with the legs out of
    frame). Either way the hold ends at the last frame it was seen held, never later.
    Holds shorter than ``min_hold_s`` are not reported.
    """

    def __init__(self, dropout_s: float = 1.0, min_hold_s: float = 1.5, lost_s: float | None = None,
                 occluded_s: float | None = None):
        self.dropout_s, self.min_hold_s = dropout_s, min_hold_s
        self.lost_s = 2 * dropout_s if lost_s is None else max(lost_s, dropout_s)
        self.occluded_s = self.lost_s if occluded_s is None else max(occluded_s, self.lost_s)
        self.reset()

    def reset(self) -> None:
        self.start: float | None = None
        self.last_ok = -math.inf
        self.broken = False  # a frame not held (as opposed to not measurable) since the last held one
        self.absent = False  # a frame without the person since the last held one
        self.broken_s = 0.0  # time on frames not held since the last held one
        self._prev_t = -math.inf

    @property
    def holding(self) -> bool:
        return self.start is not None

    def held_s(self, t: float) -> float:
        if self.start is None:
            return 0.0
        return self.last_ok - self.start

    def update(self, t: float, ok: bool | None, present: bool = True, start_at: float | None = None) -> Hold | None:
        """Returns the finished hold when one ends on this frame. ``present``: the person is in view (only
        read when ``ok`` is None); ``start_at``: when a hold that starts on this frame began (default ``t``)."""
        if ok:
            if self.start is None:
                self.start = t if start_at is None else min(start_at, t)
            self.last_ok, self.broken, self.absent, self.broken_s = t, False, False, 0.0
            self._prev_t = t
            return None
        if self.start is None:
            return None
        if ok is False:
            self.broken = True
            self.broken_s += max(0.0, t - self._prev_t)
        self._prev_t = t
        self.absent = self.absent or not present
        gap = t - self.last_ok
        bridge = self.lost_s if self.absent else self.occluded_s
        # a break ends the hold once it lasted dropout_s (frames not held, not the unmeasurable ones between
        # them: one bad frame at a camera cut inside a close-up is not a break of dropout_s)
        if gap > bridge or self.broken_s > self.dropout_s or (self.broken and self.absent and gap > self.dropout_s):
            return self._end()
        return None

    def finish(self, t: float) -> Hold | None:
        """The stream ended: close the hold in progress."""
        return self._end() if self.start is not None else None

    def _end(self) -> Hold | None:
        hold = Hold(self.start, self.last_ok)
        self.start, self.broken, self.absent, self.broken_s = None, False, False, 0.0
        return hold if hold.duration_s >= self.min_hold_s else None
