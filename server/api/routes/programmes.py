"""Programmes, and the patient's programme for today (the exercise catalog: routes/exercises.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import func, or_, select

from formcheck.storage.database import Programme, User
from server.api.deps import DB, CurrentUser, ProgrammeId, Therapist
from server.api.errors import Problem
from server.api.schemas import ProgrammeIn, ProgrammeOut, TodayProgramme
from server.services.catalog import check_exercise, exercise_info
from server.services.programmes import patient_programme, to_dict, visible_programme

router = APIRouter(prefix="/api", tags=["programmes"])


@router.get("/programmes", response_model=list[ProgrammeOut])
def list_programmes(user: CurrentUser, db: DB):
    """Built-in programmes and the therapist's own (for a patient: built-ins and the assigned one)."""
    query = select(Programme).where(or_(Programme.owner_id.is_(None), Programme.owner_id == user.id))
    if user.role == "patient" and user.programme_id is not None:
        query = select(Programme).where(or_(Programme.owner_id.is_(None), Programme.id == user.programme_id))
    return [to_dict(p) for p in db.scalars(query.order_by(Programme.id))]


def _checked_items(body: ProgrammeIn) -> list[dict]:
    for item in body.items:
        check_exercise(item.exercise)
    return [item.model_dump() for item in body.items]


@router.post("/programmes", response_model=ProgrammeOut, status_code=201)
def create_programme(body: ProgrammeIn, user: Therapist, db: DB):
    """A therapist's own programme: exercises from the catalog with targets."""
    row = Programme(
        name=body.name, description=body.description, level=body.level, owner_id=user.id, items=_checked_items(body)
    )
    db.add(row)
    db.commit()
    return to_dict(row)


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(programme_id: ProgrammeId, user: CurrentUser, db: DB):
    return to_dict(visible_programme(db, user, programme_id))


def _own(db, user: User, programme_id: int) -> Programme:
    row = visible_programme(db, user, programme_id)
    if row.owner_id != user.id:
        raise Problem(403, "Built-in programmes cannot be changed; make your own copy.", "Read-only programme")
    return row


@router.put("/programmes/{programme_id}", response_model=ProgrammeOut)
def update_programme(programme_id: ProgrammeId, body: ProgrammeIn, user: Therapist, db: DB):
    row = _own(db, user, programme_id)
    row.name, row.description, row.level, row.items = body.name, body.description, body.level, _checked_items(body)
    db.commit()
    return to_dict(row)


@router.delete("/programmes/{programme_id}", status_code=204)
def delete_programme(programme_id: ProgrammeId, user: Therapist, db: DB):
    row = _own(db, user, programme_id)
    users = db.scalar(select(func.count()).select_from(User).where(User.programme_id == row.id))
    if users:
        raise Problem(
            409, f"This programme is assigned to {users} patient(s); assign them another first.", "Programme in use"
        )
    db.delete(row)
    db.commit()
    return Response(status_code=204)


@router.get("/me/programme", response_model=TodayProgramme)
def my_programme(user: CurrentUser, db: DB):
    """Today's programme with how-to and camera placement for each exercise."""
    row = patient_programme(db, user) if user.role == "patient" else None
    items = []
    for item in row.items if row else []:
        info = exercise_info(item["exercise"])
        items.append(
            {
                **item,
                "name": info["name"],
                "kind": info["kind"],
                "instructions": info["instructions"],
                "camera": info["camera"],
                "position": info["position"],
            }
        )
    return {"programme": to_dict(row) if row else None, "level": user.level, "items": items}
