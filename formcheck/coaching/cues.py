"""Which form warnings a person is shown and told, and for how long.

The engine reports every warning its rules raise (all of them are stored and reported); this module keeps the
display calm: one cue at a time, a gap between any two, a cooldown before the same rule again, and spoken cues
further apart still."""

from __future__ import annotations

import math
from dataclasses import dataclass

from formcheck.core.events import FormWarning

CUE_SHOW_S = 3.0


class CueLimiter:
    """One cue at a time: at least ``gap_s`` between any two, and ``cooldown_s`` before the same rule again."""

    def __init__(self, gap_s: float = 3.0, cooldown_s: float = 12.0):
        self.gap_s, self.cooldown_s = gap_s, cooldown_s
        self.reset()

    def reset(self) -> None:
        self._last_any = -math.inf
        self._last: dict[str, float] = {}

    def allow(self, rule: str, t: float) -> bool:
        """Whether a warning of ``rule`` at ``t`` may be shown (and if so, it counts as shown)."""
        if t - self._last_any < self.gap_s or t - self._last.get(rule, -math.inf) < self.cooldown_s:
            return False
        self._last_any = self._last[rule] = t
        return True


@dataclass(frozen=True, slots=True)
class Cue:
    """A warning being shown: its text, the joints to highlight, until when, and whether to say it aloud."""

    rule: str
    message: str
    joints: frozenset[int]
    until: float
    speak: bool


class CueBoard:
    """The cue on screen: offered every warning, shows the few the limiter allows for ``show_s`` seconds."""

    def __init__(self, limiter: CueLimiter | None = None, show_s: float = CUE_SHOW_S, speak_gap_s: float = 4.0):
        self.limiter = limiter or CueLimiter()
        self.show_s, self.speak_gap_s = show_s, speak_gap_s
        self.reset()

    def reset(self) -> None:
        """A new set: forget what was shown."""
        self.limiter.reset()
        self._cue: Cue | None = None
        self._last_spoken = -math.inf

    def offer(self, warning: FormWarning, joints: tuple[int, ...] | frozenset[int] = ()) -> Cue | None:
        """The cue when ``warning`` is shown now, None when the display throttles it."""
        if not self.limiter.allow(warning.rule, warning.t):
            return None
        speak = warning.t - self._last_spoken > self.speak_gap_s
        if speak:
            self._last_spoken = warning.t
        self._cue = Cue(warning.rule, warning.message, frozenset(joints), warning.t + self.show_s, speak)
        return self._cue

    def current(self, t: float) -> Cue | None:
        """The cue on screen at ``t``, if any."""
        return self._cue if self._cue is not None and t < self._cue.until else None
