"""Where a live session is saved: the store (opened with a clear error), the running totals written every few
seconds off the frame loop, and the optional landmark recording."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from formcheck.core.background import BackgroundWorker
from formcheck.io.recording import ChunkedPoseWriter
from formcheck.live.options import LiveError
from formcheck.storage.database import ExerciseSession, Store


def open_store(url: str | None) -> Store:
    """The session store; an unusable database URL is a :class:`LiveError`."""
    try:
        return Store(url)
    except ArgumentError:
        raise LiveError(f"{url!r} is not a database URL (e.g. sqlite:///path/to/formcheck.db)") from None
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise LiveError(f"cannot open the database {shown_url(url)}: {reason}") from None


def shown_url(url: str | None) -> str:
    """The database URL for messages, with any password hidden."""
    if not url:
        return "(default)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return url


class ProgressWriter:
    """Writes the session's running totals to the store every few seconds, off the frame loop."""

    def __init__(self, store: Store, session_id: int, every_s: float = 2.0):
        self.store, self.session_id, self.every_s = store, session_id, every_s
        self._next = 0.0
        # progress is a convenience (events are written separately): skip updates rather than wait, ignore errors
        self._writer = BackgroundWorker(self._write, maxsize=1, name="progress", drop_when_full=True,
                                        swallow_errors=True)

    def maybe(self, t: float, frames: int, with_person: int) -> None:
        if t < self._next:
            return
        self._next = t + self.every_s
        self._writer.submit((t, frames, with_person))

    def _write(self, item: tuple[float, int, int]) -> None:
        t, frames, with_person = item
        self.store.update_progress(self.session_id, duration_s=round(t, 3), frames=frames,
                                   frames_with_person=with_person)

    def close(self) -> None:
        self._writer.close()


class LandmarkRecording:
    """The session's poses written as they come (a crash or a kill keeps what was recorded), named in the store."""

    def __init__(self, store: Store, session_id: int, folder: Path, meta: dict):
        self.store, self.session_id = store, session_id
        self.name = f"session_{session_id}.npz"
        self.writer = ChunkedPoseWriter(folder / self.name, meta)
        set_landmarks_file(store, session_id, self.name)

    def close(self) -> str | None:
        """The file's name, None when nothing was recorded (then the store forgets it)."""
        saved = self.writer.close()
        if saved is None:
            set_landmarks_file(self.store, self.session_id, None)
        return saved.name if saved else None


def set_landmarks_file(store: Store, session_id: int, name: str | None) -> None:
    with store.session() as db, db.begin():
        row = db.get(ExerciseSession, session_id)
        if row is not None:
            row.landmarks_file = name
