"""Programmes in the database: the built-in levels (seeded from formcheck/programmes) and therapists' own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from formcheck.storage.database import Programme, User
from server.api.errors import Problem, not_found
from server.core.validation import id_in_range

LEVELS = ("initial", "intermediate", "advanced")


def seed_builtin(db: Session) -> None:
    """Create or refresh the built-in programmes (owner None) from the package's YAML files."""
    try:
        from formcheck.programmes import list_programmes
    except ImportError:
        return
    existing = {p.name: p for p in db.scalars(select(Programme).where(Programme.owner_id.is_(None)))}
    for prog in list_programmes():
        row = existing.get(prog.name) or Programme(name=prog.name, owner_id=None)
        row.level = prog.level
        row.description = prog.description or prog.title
        row.items = [item.model_dump() for item in prog.items]
        db.add(row)
    db.commit()


def builtin_for_level(db: Session, level: str) -> Programme | None:
    return db.scalars(
        select(Programme).where(Programme.owner_id.is_(None), Programme.level == level).order_by(Programme.id)
    ).first()


def to_dict(row: Programme) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description or "",
        "level": row.level,
        "builtin": row.owner_id is None,
        "owner_id": row.owner_id,
        "items": list(row.items or []),
    }


def can_see(user: User, row: Programme) -> bool:
    if row.owner_id is None or row.owner_id == user.id:
        return True
    if user.role == "patient":
        return user.programme_id == row.id
    return False


def visible_programme(db: Session, user: User, programme_id: int) -> Programme:
    row = db.get(Programme, programme_id) if id_in_range(programme_id) else None
    if row is None or not can_see(user, row):
        raise not_found("programme")
    return row


def assignable_programme(db: Session, therapist: User, programme_id: int) -> Programme:
    """A programme a therapist may assign: built in or their own."""
    row = db.get(Programme, programme_id) if id_in_range(programme_id) else None
    if row is None or (row.owner_id is not None and row.owner_id != therapist.id):
        raise Problem(422, f"There is no programme {programme_id} you can assign.", "Unknown programme")
    return row


def patient_programme(db: Session, patient: User) -> Programme | None:
    """The patient's assigned programme, else the built-in programme of their level."""
    if patient.programme_id is not None:
        row = db.get(Programme, patient.programme_id)
        if row is not None:
            return row
    return builtin_for_level(db, patient.level)
