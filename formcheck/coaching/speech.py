"""Optional spoken cues through the system's speech engine (espeak-ng, espeak or spd-say) and countdown beeps.

Everything runs in one background thread; when the engine is busy, older waiting phrases are dropped so cues
never lag behind the exercise. Without a speech engine (or muted) the calls do nothing.
"""

from __future__ import annotations

import io
import queue
import shutil
import subprocess
import sys
import threading
import wave

import numpy as np

ENGINES = (("espeak-ng", ["-s", "165"]), ("espeak", ["-s", "165"]), ("spd-say", ["--wait"]))
PLAYERS = (("paplay", []), ("aplay", ["-q"]), ("pw-play", []))


def find_engine() -> list[str] | None:
    """The command line prefix of an installed speech engine, or None."""
    for name, args in ENGINES:
        path = shutil.which(name)
        if path:
            return [path, *args]
    return None


def find_player() -> list[str] | None:
    for name, args in PLAYERS:
        path = shutil.which(name)
        if path:
            return [path, *args]
    return None


def beep_wav(freq: float = 880.0, seconds: float = 0.12, rate: int = 16000) -> bytes:
    """A short sine beep as WAV bytes."""
    t = np.arange(int(rate * seconds)) / rate
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
    samples = (0.4 * 32767 * np.sin(2 * np.pi * freq * t) * fade).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


class Speaker:
    """Says short phrases and beeps in the background. ``muted`` can be toggled at any time."""

    def __init__(self, muted: bool = False, beeps: bool = True, engine: list[str] | None = None):
        self.muted = muted
        self.beeps = beeps
        self.engine = engine if engine is not None else find_engine()
        self.player = find_player()
        self._beep = beep_wav()
        self._q: queue.Queue = queue.Queue(maxsize=3)
        self._thread = threading.Thread(target=self._run, name="speech", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        return self.engine is not None

    def toggle_mute(self) -> bool:
        self.muted = not self.muted
        return self.muted

    def say(self, text: str) -> None:
        if not self.muted and self.engine and text:
            self._put(("say", text))

    def beep(self) -> None:
        if self.muted or not self.beeps:
            return
        if self.player:
            self._put(("beep", None))
        elif sys.stdout.isatty():
            sys.stdout.write("\a")
            sys.stdout.flush()

    def _put(self, item) -> None:
        while True:
            try:
                self._q.put_nowait(item)
                return
            except queue.Full:  # drop the oldest waiting phrase: cues must stay current
                try:
                    self._q.get_nowait()
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            kind, text = item
            try:
                if kind == "say":
                    subprocess.run([*self.engine, text], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   timeout=15, check=False)
                else:
                    subprocess.run(self.player, input=self._beep, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=5, check=False)
            except (OSError, subprocess.SubprocessError):
                pass  # speech is optional: a broken audio set-up must not disturb the session

    def close(self) -> None:
        self._put(None)
        self._thread.join(timeout=2)
