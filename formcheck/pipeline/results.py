"""What the frame loop hands on: one analysed frame (``FrameResult``) and the time spent per stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from formcheck.core.events import Event
from formcheck.io.sources import Frame
from formcheck.pose.types import Pose


@dataclass(slots=True)
class FrameResult:
    """One analysed frame: the frame (None when replaying recorded poses), its pose and the events it caused."""

    frame: Frame | None
    pose: Pose
    events: list[Event]


@dataclass
class StageTimes:
    """Accumulated seconds per stage (for ``formcheck bench``)."""

    decode: float = 0.0
    pose: float = 0.0
    analysis: float = 0.0
    sinks: float = 0.0
    frames: int = 0  # frames of the video
    model_frames: int = 0  # frames the pose model saw (fewer with the adaptive stride)
    wall: float = 0.0
    extra: dict = field(default_factory=dict)

    def per_frame_ms(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {k: 1000 * getattr(self, k) / n for k in ("decode", "pose", "analysis", "sinks")}
