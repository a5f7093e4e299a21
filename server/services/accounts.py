"""Accounts outside the API: the first therapist (``formcheck users add``), listing, password resets."""

from __future__ import annotations

import re

from sqlalchemy import select

from formcheck.storage.database import Store, User
from server.core.auth import check_new_password, hash_password

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")


def create_user(
    store: Store,
    username: str,
    password: str,
    role: str = "therapist",
    display_name: str = "",
    therapist: str | None = None,
    level: str = "initial",
) -> int:
    """Create an account; ``ValueError`` with a message for a person when it cannot be made."""
    if role not in ("therapist", "patient", "admin"):
        raise ValueError("the role must be 'therapist', 'patient' or 'admin' (the clinic admin reads the audit log)")
    if not USERNAME.match(username):
        raise ValueError("the username must be 3-80 letters, digits or _ . @ -")
    check_new_password(password, username)
    with store.session() as db, db.begin():
        if db.scalars(select(User).where(User.username == username)).first():
            raise ValueError(f"the username {username!r} is taken")
        therapist_id = None
        if therapist:
            row = db.scalars(select(User).where(User.username == therapist, User.role == "therapist")).first()
            if row is None:
                raise ValueError(f"there is no therapist {therapist!r}")
            therapist_id = row.id
        user = User(
            username=username,
            password_hash=hash_password(password),
            role=role,
            display_name=display_name or username,
            therapist_id=therapist_id,
            level=level,
        )
        db.add(user)
        db.flush()
        return user.id


def set_password(store: Store, username: str, password: str) -> None:
    """Give an account a new password (a forgotten one) and end its earlier tokens; ``ValueError`` with a
    message for a person."""
    with store.session() as db, db.begin():
        user = db.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise ValueError(f"there is no account {username!r}")
        check_new_password(password, username)
        user.password_hash = hash_password(password)
        user.token_version += 1


def list_users(store: Store) -> list[User]:
    """Every account, therapists first."""
    with store.session() as db:
        return list(db.scalars(select(User).order_by(User.role.desc(), User.username)))
