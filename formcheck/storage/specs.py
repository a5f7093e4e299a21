"""Exercise specs stored in the database (edited by a therapist through the API), versioned: each edit is a new
row, the newest version of an id is the one in use, older ones stay readable. Validation is the catalog's job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from formcheck.storage.database import Base, utcnow


class ExerciseSpecVersion(Base):
    """One version of a stored exercise spec (the spec's fields as given, as JSON)."""

    __tablename__ = "exercise_specs"
    __table_args__ = (UniqueConstraint("exercise_id", "version", name="uq_exercise_specs_id_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def latest_specs(db: Session) -> list[ExerciseSpecVersion]:
    """The newest version of every stored exercise."""
    newest = (select(ExerciseSpecVersion.exercise_id, func.max(ExerciseSpecVersion.version).label("v"))
              .group_by(ExerciseSpecVersion.exercise_id).subquery())
    query = select(ExerciseSpecVersion).join(
        newest, (ExerciseSpecVersion.exercise_id == newest.c.exercise_id) & (ExerciseSpecVersion.version == newest.c.v)
    )
    return list(db.scalars(query.order_by(ExerciseSpecVersion.exercise_id)))


def spec_versions(db: Session, exercise_id: str) -> list[ExerciseSpecVersion]:
    """Every stored version of one exercise, oldest first."""
    query = select(ExerciseSpecVersion).where(ExerciseSpecVersion.exercise_id == exercise_id)
    return list(db.scalars(query.order_by(ExerciseSpecVersion.version)))


def add_spec_version(db: Session, exercise_id: str, spec: dict[str, Any], author_id: int | None) -> ExerciseSpecVersion:
    """Store ``spec`` as the next version of ``exercise_id`` (the caller has validated it and commits)."""
    newest = select(func.max(ExerciseSpecVersion.version)).where(ExerciseSpecVersion.exercise_id == exercise_id)
    last = db.scalar(newest)
    row = ExerciseSpecVersion(exercise_id=exercise_id, version=(last or 0) + 1, spec=spec, author_id=author_id)
    db.add(row)
    db.flush()
    return row


def specs_stamp(db: Session) -> tuple[int, int]:
    """Changes whenever a version is added (rows are only ever added): (count, newest row id)."""
    count, newest = db.execute(select(func.count(ExerciseSpecVersion.id), func.max(ExerciseSpecVersion.id))).one()
    return int(count or 0), int(newest or 0)
