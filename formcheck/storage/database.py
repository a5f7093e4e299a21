"""Database tables and the session store shared by ``formcheck live`` and the server.

SQLite in the user's data folder by default (zero set-up); any SQLAlchemy URL (PostgreSQL for a clinic) via
``FORMCHECK_DATABASE_URL``. Events are written as they happen, so a crash loses nothing already done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    false,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from formcheck.core.background import BackgroundWorker
from formcheck.core.events import Event, FormWarning, HoldCompleted, PainReported, RepCompleted
from formcheck.core.result import AnalysisResult
from formcheck.core.settings import Settings
from formcheck.storage.results import normalise_series, report_json, result_from_session, session_exercise


def utcnow() -> datetime:
    return datetime.now(UTC)


def data_dir() -> Path:
    """The user's formcheck data folder (the settings' ``data_dir``: $FORMCHECK_DATA_DIR, else XDG)."""
    return Settings().data_dir


def default_database_url() -> str:
    """The settings' database URL ($FORMCHECK_DATABASE_URL, else SQLite in the data folder)."""
    return Settings().db_url


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "therapist" | "patient" | "admin"
    display_name: Mapped[str] = mapped_column(String(120), default="")
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[str] = mapped_column(String(16), default="initial")
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", use_alter=True, name="fk_users_programme_id")
    )
    keep_videos: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # in every token; raised at logout and at a new password, which ends the tokens issued before
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the patient's (or their therapist's) choice: live pose runs on the device, the server refuses video frames
    video_on_device_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Programme(Base):
    """Ordered exercises with targets: items = [{exercise, reps, sets, hold_s, rest_s}]."""

    __tablename__ = "programmes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(16), default="custom")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None = built in
    items: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LevelChange(Base):
    __tablename__ = "level_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    from_level: Mapped[str] = mapped_column(String(16))
    to_level: Mapped[str] = mapped_column(String(16))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "accepted": the level changed; "declined": a suggested level-up the therapist turned down for now
    decision: Mapped[str] = mapped_column(String(16), default="accepted", server_default="accepted")


class ExerciseSession(Base):
    """One live session or one analysed upload."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "live" | "upload"
    title: Mapped[str] = mapped_column(String(200), default="")  # exercise or programme name
    programme: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(16), default="full")
    source: Mapped[str] = mapped_column(String(255), default="")
    # recording | queued | running | completed | failed | cancelled | interrupted
    status: Mapped[str] = mapped_column(String(16), default="recording", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    frames_with_person: Mapped[int] = mapped_column(Integer, default=0)
    notices: Mapped[list[Any]] = mapped_column(default=list)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    series: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    landmarks_file: Mapped[str | None] = mapped_column(String(255))  # server-made name, opt-in
    video_file: Mapped[str | None] = mapped_column(String(255))  # server-made name, when kept
    error: Mapped[str | None] = mapped_column(Text)

    sets: Mapped[list[ExerciseSet]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="ExerciseSet.id"
    )
    reps: Mapped[list[Rep]] = relationship(cascade="all, delete-orphan", order_by="Rep.id")
    holds: Mapped[list[Hold]] = relationship(cascade="all, delete-orphan", order_by="Hold.id")
    warnings: Mapped[list[Warning_]] = relationship(cascade="all, delete-orphan", order_by="Warning_.id")
    pain_reports: Mapped[list[PainReport]] = relationship(cascade="all, delete-orphan", order_by="PainReport.id")
    notes: Mapped[list[Note]] = relationship(cascade="all, delete-orphan", order_by="Note.id")


class ExerciseSet(Base):
    """One set of one exercise within a session, with its targets."""

    __tablename__ = "exercise_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    exercise: Mapped[str] = mapped_column(String(80))
    set_index: Mapped[int] = mapped_column(Integer, default=1)
    target_reps: Mapped[int | None] = mapped_column(Integer)
    target_hold_s: Mapped[float | None] = mapped_column(Float)
    started_s: Mapped[float] = mapped_column(Float, default=0.0)
    ended_s: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | done | skipped | stopped
    session: Mapped[ExerciseSession] = relationship(back_populates="sets")


class _SetEvent:
    id: Mapped[int] = mapped_column(primary_key=True)
    exercise: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rep(_SetEvent, Base):
    __tablename__ = "reps"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int | None] = mapped_column(ForeignKey("exercise_sets.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    faults: Mapped[list[Any]] = mapped_column(default=list)
    range_of_motion: Mapped[float] = mapped_column(Float, default=0.0)
    tempo_s: Mapped[float] = mapped_column(Float, default=0.0)
    score_parts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    side: Mapped[str | None] = mapped_column(String(8))


class Hold(_SetEvent, Base):
    __tablename__ = "holds"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int | None] = mapped_column(ForeignKey("exercise_sets.id", ondelete="CASCADE"))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    target_s: Mapped[float] = mapped_column(Float, default=0.0)
    faults: Mapped[list[Any]] = mapped_column(default=list)


class Warning_(_SetEvent, Base):
    __tablename__ = "warnings"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int | None] = mapped_column(ForeignKey("exercise_sets.id", ondelete="CASCADE"))
    t_s: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    confidence: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")


class PainReport(_SetEvent, Base):
    __tablename__ = "pain_reports"
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int | None] = mapped_column(ForeignKey("exercise_sets.id", ondelete="CASCADE"))
    t_s: Mapped[float] = mapped_column(Float)
    rating: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Note(Base):
    """A therapist's note on a session."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """A background analysis of an uploaded video; its state survives a server restart."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    upload_file: Mapped[str] = mapped_column(String(255))  # server-made name under the upload folder
    exercise: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(16), default="full")
    # e.g. {"exercises": [...]} to recognise one of a programme's exercises when ``exercise`` is "auto"
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        String(16), default="queued", index=True
    )  # queued|running|done|failed|cancelled
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(64))  # the task queue's id (Celery), to revoke it
    claim_token: Mapped[str | None] = mapped_column(String(64))  # the attempt that may write the result ...
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # ... while it keeps its lease
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """One audited action: who (user id, username, role), what (action), on which patient / session, when (UTC),
    from where (client address). No foreign keys and no health data: entries outlive an erased patient."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(80), default="", server_default="")
    role: Mapped[str] = mapped_column(String(16), default="", server_default="")
    action: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64), default="", server_default="")


def make_engine(url: str | None = None) -> Engine:
    url = url or default_database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _):  # durable, concurrent-reader friendly
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (Alembic migrations when present, else create the tables)."""
    try:
        from formcheck.storage.migrations import upgrade
    except ImportError:
        Base.metadata.create_all(engine)
    else:
        upgrade(engine)


class Store:
    """The storage API: opens the database (migrating it); creates a session, starts and ends sets, records
    events (tagged with their exercise), finishes a session or stores a whole :class:`AnalysisResult`, and
    loads a session back as one. Live recording, the upload worker and the API all use it."""

    def __init__(self, url: str | None = None, *, migrate_schema: bool = True):
        self.url = url or default_database_url()
        self.engine = make_engine(self.url)
        if migrate_schema:
            migrate(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessionmaker()

    def start_session(
        self,
        *,
        kind: str,
        title: str,
        patient_id: int | None = None,
        programme: str | None = None,
        model: str = "full",
        source: str = "",
        status: str = "recording",
    ) -> int:
        with self.session() as db, db.begin():
            row = ExerciseSession(
                kind=kind,
                title=title,
                patient_id=patient_id,
                programme=programme,
                model=model,
                source=source,
                status=status,
            )
            db.add(row)
            db.flush()
            return row.id

    def start_set(
        self,
        session_id: int,
        exercise: str,
        set_index: int = 1,
        target_reps: int | None = None,
        target_hold_s: float | None = None,
        started_s: float = 0.0,
    ) -> int:
        with self.session() as db, db.begin():
            row = ExerciseSet(
                session_id=session_id,
                exercise=exercise,
                set_index=set_index,
                target_reps=target_reps,
                target_hold_s=target_hold_s,
                started_s=started_s,
            )
            db.add(row)
            db.flush()
            return row.id

    def end_set(self, set_id: int, ended_s: float, status: str = "done") -> None:
        with self.session() as db, db.begin():
            row = db.get(ExerciseSet, set_id)
            if row is not None:
                row.ended_s, row.status = ended_s, status

    def add_events(self, session_id: int, exercise: str, events: list[Event], set_id: int | None = None) -> None:
        """Write rep, hold, warning and pain events (others are ignored) in one committed transaction."""
        rows = [r for r in (event_row(session_id, exercise, e, set_id) for e in events) if r is not None]
        if rows:
            with self.session() as db, db.begin():
                db.add_all(rows)

    def finish_session(
        self,
        session_id: int,
        *,
        status: str = "completed",
        result: AnalysisResult | dict | None = None,
        report: dict | None = None,
        series: dict | None = None,
        error: str | None = None,
    ) -> None:
        """End a session whose events were recorded as they happened (``add_events`` / ``SessionRecorder``).

        ``result`` (an :class:`AnalysisResult`, or its ``to_dict()`` form, possibly with live-only keys; ``report``
        is the older name) gives the totals, notices, recognition and series; its events are not copied (they
        are rows already). ``series`` overrides the result's curves; any older shape is keyed by exercise."""
        result = result if result is not None else report
        with self.session() as db, db.begin():
            row = db.get(ExerciseSession, session_id)
            if row is None:
                return
            row.status, row.ended_at, row.error = status, utcnow(), error
            if result is not None:
                d = result.to_dict() if isinstance(result, AnalysisResult) else result
                _set_totals(row, d)
                row.report = report_json(d)
                series = series if series is not None else d.get("series")
            if series is not None:
                row.series = normalise_series(series, session_exercise(row, sets_first=True)) or None

    def save_result(self, session_id: int, result: AnalysisResult, *, targets: dict | None = None,
                    title: str | None = None, video_file: str | None = None) -> None:
        """Store a whole analysis at once (an upload): a set per exercise, the events as rows, the totals."""
        with self.session() as db, db.begin():
            write_result(db, session_id, result, targets=targets, title=title, video_file=video_file)

    def load_result(self, session_id: int) -> AnalysisResult | None:
        """The stored session as an :class:`AnalysisResult` (built from its rows), None when there is none."""
        with self.session() as db:
            row = db.get(ExerciseSession, session_id)
            return result_from_session(row) if row is not None else None

    def update_progress(self, session_id: int, *, duration_s: float, frames: int, frames_with_person: int) -> None:
        with self.session() as db, db.begin():
            row = db.get(ExerciseSession, session_id)
            if row is not None:
                row.duration_s, row.frames, row.frames_with_person = duration_s, frames, frames_with_person

    def get_session(self, session_id: int) -> ExerciseSession | None:
        with self.session() as db:
            return db.scalars(select(ExerciseSession).where(ExerciseSession.id == session_id)).first()

    def close(self) -> None:
        self.engine.dispose()


def event_row(session_id: int, exercise: str, e: Event, set_id: int | None = None) -> Base | None:
    """The table row for an event (None for events that are not stored)."""
    common = dict(session_id=session_id, exercise=exercise, set_id=set_id)
    if isinstance(e, RepCompleted):
        return Rep(
            **common,
            index=e.index,
            start_s=e.start_s,
            end_s=e.end_s,
            score=e.score,
            faults=list(e.faults),
            range_of_motion=e.range_of_motion,
            tempo_s=e.tempo_s,
            score_parts=dict(e.score_parts),
            side=e.side,
        )
    if isinstance(e, HoldCompleted):
        return Hold(
            **common,
            start_s=e.start_s,
            end_s=e.end_s,
            duration_s=e.duration_s,
            target_s=e.target_s,
            faults=list(e.faults),
        )
    if isinstance(e, FormWarning):
        return Warning_(**common, t_s=e.t, rule=e.rule, message=e.message, severity=e.severity,
                        confidence=e.confidence)
    if isinstance(e, PainReported):
        return PainReport(**common, t_s=e.t, rating=e.rating, location=e.location, note=e.note)
    return None


def _set_totals(row: ExerciseSession, d: dict) -> None:
    row.duration_s = d.get("duration_s", row.duration_s)
    row.frames = d.get("frames", row.frames)
    row.frames_with_person = d.get("frames_with_person", row.frames_with_person)
    row.notices = d.get("notices", row.notices)


def write_result(db: Session, session_id: int, result: AnalysisResult, *, targets: dict | None = None,
                 title: str | None = None, video_file: str | None = None) -> None:
    """Within the caller's transaction: replace the session's sets and events by the result's and complete it.

    ``targets`` maps an exercise id to its ``(reps, hold_s)`` targets. A resumed job starts clean, so the
    events are stored once."""
    for table in (Rep, Hold, Warning_, PainReport, ExerciseSet):
        db.execute(delete(table).where(table.session_id == session_id))
    sets: dict[str, int] = {}
    for exercise in result.exercises or [result.exercise]:
        reps, hold_s = (targets or {}).get(exercise, (None, None))
        ex_set = ExerciseSet(session_id=session_id, exercise=exercise, set_index=1, target_reps=reps,
                             target_hold_s=hold_s, started_s=0.0, ended_s=result.duration_s, status="done")
        db.add(ex_set)
        db.flush()
        sets[exercise] = ex_set.id
    db.add_all([r for r in (event_row(session_id, x.exercise, x.event, sets.get(x.exercise)) for x in result.events)
                if r is not None])
    row = db.get(ExerciseSession, session_id)
    d = result.to_dict()
    _set_totals(row, d)
    row.status, row.ended_at, row.error = "completed", utcnow(), None
    row.model, row.report, row.series = result.model or row.model, report_json(d), result.series or None
    row.video_file = video_file
    if title is not None:
        row.title = title


class SessionRecorder:
    """Writes events to the store from a background thread, so the frame loop never waits on the database.

    Each batch is committed as soon as it is written; :meth:`close` drains the queue.
    """

    def __init__(self, store: Store, session_id: int):
        self.store, self.session_id = store, session_id
        self.exercise = ""
        self.set_id: int | None = None
        self._writer = BackgroundWorker(self._write, name="recorder")

    def start_set(
        self,
        exercise: str,
        set_index: int = 1,
        target_reps: int | None = None,
        target_hold_s: float | None = None,
        started_s: float = 0.0,
    ) -> None:
        """Following events belong to this set (runs synchronously: a set start is rare)."""
        self.flush()
        self.exercise = exercise
        self.set_id = self.store.start_set(self.session_id, exercise, set_index, target_reps, target_hold_s, started_s)

    def end_set(self, ended_s: float, status: str = "done") -> None:
        self.flush()
        if self.set_id is not None:
            self.store.end_set(self.set_id, ended_s, status)
        self.set_id = None

    def record(self, events: list[Event]) -> None:
        if events:
            self._writer.submit((self.exercise, self.set_id, list(events)))

    def _write(self, item: tuple[str, int | None, list[Event]]) -> None:
        exercise, set_id, events = item
        self.store.add_events(self.session_id, exercise, events, set_id)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        """Write what is queued; raises the first write error, if any (later events were still written)."""
        self._writer.close()
