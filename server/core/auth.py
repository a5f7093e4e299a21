"""Password hashing (argon2id) and expiring bearer tokens (JWT, HS256)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.api.errors import Problem

_hasher = PasswordHasher()
ALGORITHM = "HS256"
COOKIE_NAME = "formcheck_token"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def dummy_verify(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def create_token(user_id: int, role: str, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> int:
    """The user id in a valid token; a 401 problem for an expired or invalid one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Problem(401, "Your login has expired; please log in again.", "Token expired", challenge) from None
    except (jwt.InvalidTokenError, ValueError):
        raise Problem(401, "The login token is not valid; please log in again.", "Invalid token", challenge) from None
