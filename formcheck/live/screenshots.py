"""Screenshots of the preview (PNG) and a log of what the HUD showed (``hud.jsonl``), written off the frame loop."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from formcheck.coaching.view import HudView
from formcheck.core.background import BackgroundWorker
from formcheck.engine.state import EngineState


class Screenshots:
    """Saves a rendered canvas about every ``every_s`` seconds and at each change of phase."""

    def __init__(self, folder: Path, every_s: float):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.every_s = every_s
        self._next_t = 0.0
        self._last_phase = ""
        self._count = 0
        self._log = open(self.folder / "hud.jsonl", "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._writer = BackgroundWorker(self._write, maxsize=64, name="screenshots", drop_when_full=True)

    def maybe(self, t: float, canvas: np.ndarray, view: HudView, pts, present: bool,
              engine: EngineState | None = None, fps: float | None = None) -> None:
        if not (t >= self._next_t or view.phase != self._last_phase):
            return
        self._next_t = t + self.every_s
        self._last_phase = view.phase
        self._count += 1
        name = f"{self._count:04d}_{view.phase}.png"
        record = {"file": name, "t": round(t, 3), **view.to_dict(), "pose_present": present,
                  "engine_reps": engine.reps if engine is not None else None,
                  "fps": None if fps is None else round(fps, 1)}
        if pts is not None:
            record["joints_px"] = [[round(float(x), 1), round(float(y), 1)] for x, y in pts]
        self._writer.submit((name, canvas.copy(), record))

    def _write(self, item: tuple[str, np.ndarray, dict]) -> None:
        name, canvas, record = item
        cv2.imwrite(str(self.folder / name), canvas)
        self._log.write(json.dumps(record, default=_json_default) + "\n")
        self._log.flush()

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._log.close()


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
