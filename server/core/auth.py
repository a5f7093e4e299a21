"""Password hashing (argon2id), the password policy (zxcvbn) and expiring, revocable bearer tokens (JWT, HS256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
import zxcvbn
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from server.api.errors import Problem

ALGORITHM = "HS256"
COOKIE_NAME = "formcheck_token"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
MIN_PASSWORD_SCORE = 2  # zxcvbn's 0-4: 2 = "somewhat guessable", safe from unthrottled online guessing


#: argon2id parameters by name (``FORMCHECK_PASSWORD_HASH``): RFC 9106's second recommendation, 64 MiB and three
#: passes (argon2-cffi's default), its first, 2 GiB and one pass, or argon2-cffi's cheapest, for test suites only
HASH_PROFILES: dict[str, profiles.Parameters] = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest-for-tests": profiles.CHEAPEST,
}


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(HASH_PROFILES[profile])


def _hasher() -> PasswordHasher:
    """The hasher of the settings' ``password_hash`` (read at each use, about 1 ms, so a process follows its
    environment)."""
    from formcheck.core.settings import Settings

    return _hasher_for(Settings().password_hash)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused (for a person), or None: 8-200 characters, not only spaces, not the user
    name, not a common or easily guessed password (zxcvbn, with the user name as a known word)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "the password must not be only spaces"
    if username and username.lower() in password.lower():
        return "the password must not contain the user name"
    strength = zxcvbn.zxcvbn(password, user_inputs=[username] if username else [])
    if strength["score"] < MIN_PASSWORD_SCORE:
        hint = strength["feedback"].get("warning") or "it is too easy to guess"
        return f"the password is too easy to guess ({hint.rstrip('.')}); use a few uncommon words"
    return None


def check_new_password(password: str, username: str = "") -> None:
    """``ValueError`` with :func:`password_problem`'s message when the password is refused."""
    if problem := password_problem(password, username):
        raise ValueError(problem)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Was the hash made with other parameters than the current ones (then a login stores a new one)?"""
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password")


def dummy_verify(password: str) -> None:
    """Verify against a hash of the current parameters when the user does not exist, so the time a login takes
    does not reveal which usernames exist."""
    verify_password(_dummy_hash(_hasher()), password)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int  # the user's token version when it was issued: older than the account's now = revoked


def create_token(user_id: int, role: str, secret: str, minutes: int, version: int = 0) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "ver": version, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_claims(token: str, secret: str) -> TokenClaims:
    """The user id and token version of a valid token; a 401 problem for an expired or invalid one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return TokenClaims(int(claims["sub"]), int(claims.get("ver", 0)))
    except jwt.ExpiredSignatureError:
        raise Problem(401, "Your login has expired; please log in again.", "Token expired", challenge) from None
    except (jwt.InvalidTokenError, ValueError):
        raise Problem(401, "The login token is not valid; please log in again.", "Invalid token", challenge) from None


def decode_token(token: str, secret: str) -> int:
    """The user id in a valid token; a 401 problem for an expired or invalid one."""
    return decode_claims(token, secret).user_id
