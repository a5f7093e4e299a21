"""Creating accounts outside the API (the first therapist, from ``formcheck users add``)."""

from __future__ import annotations

import re

from sqlalchemy import select

from formcheck.store import Store, User
from server.auth import hash_password

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
    if role not in ("therapist", "patient"):
        raise ValueError("the role must be 'therapist' or 'patient'")
    if not USERNAME.match(username):
        raise ValueError("the username must be 3-80 letters, digits or _ . @ -")
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
