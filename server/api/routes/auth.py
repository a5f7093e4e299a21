"""Log in (OAuth2 password flow), log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import select

from formcheck.storage.database import User
from server.api.deps import DB, CurrentUser, SettingsDep, request_token
from server.api.errors import Problem
from server.api.schemas import MySettings, TokenOut, UserOut
from server.core.auth import (
    COOKIE_NAME,
    MAX_PASSWORD_LENGTH,
    create_token,
    decode_claims,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)
from server.core.validation import Line, id_in_range
from server.services import audit

router = APIRouter(prefix="/api", tags=["auth"])
MAX_USERNAME_LENGTH = 80


class LoginForm:
    """The OAuth2 password form: ``username`` and ``password``, length- and character-checked before anything is
    looked up or counted (a 422 problem)."""

    def __init__(
        self,
        username: Annotated[Line, Form(min_length=1, max_length=MAX_USERNAME_LENGTH)],
        password: Annotated[Line, Form(min_length=1, max_length=MAX_PASSWORD_LENGTH)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    ):
        self.username, self.password = username, password


@router.post("/auth/token", response_model=TokenOut)
def login(form: Annotated[LoginForm, Depends()], db: DB, settings: SettingsDep, request: Request,
          response: Response):
    """Exchange username and password for a bearer token (also set as the HttpOnly ``formcheck_token`` cookie).
    Too many failed attempts (per username and address, per username, per address) answer 429 for a while."""
    throttle, address = request.app.state.login_throttle, request.client.host if request.client else ""
    throttle.attempt(form.username, address)  # counted before the password is checked: parallel guesses too
    user = db.scalars(select(User).where(User.username == form.username)).first()
    if user is None:
        dummy_verify(form.password)
    if user is None or not user.active or not verify_password(user.password_hash, form.password):
        audit.record(db, request, None, "login.failed", username=form.username)
        raise Problem(401, "Wrong username or password.", "Login failed", {"WWW-Authenticate": "Bearer"})
    throttle.succeeded(form.username, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password)
    audit.record(db, request, user, "login")
    token = create_token(user.id, user.role, settings.jwt_secret, settings.token_minutes, user.token_version)
    max_age = settings.token_minutes * 60
    response.set_cookie(
        COOKIE_NAME, token, max_age=max_age, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )
    return TokenOut(access_token=token, expires_in=max_age, role=user.role, user_id=user.id)


def revoke_tokens(request: Request) -> None:
    """End every token of the account the request's token belongs to (nothing when it has no valid one)."""
    token = request_token(request)
    if not token:
        return
    try:
        claims = decode_claims(token, request.app.state.settings.jwt_secret)
    except Problem:
        return
    with request.app.state.store.session() as db, db.begin():
        user = db.get(User, claims.user_id) if id_in_range(claims.user_id) else None
        if user is not None and user.token_version == claims.version:
            user.token_version += 1


@router.post("/auth/logout", status_code=204)
def logout(request: Request) -> Response:
    """Log out: every token of this account issued so far stops working (on every device), and the login cookie
    is forgotten."""
    revoke_tokens(request)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser):
    """The logged-in account."""
    return user


@router.patch("/me", response_model=UserOut)
def update_me(body: MySettings, user: CurrentUser, db: DB):
    """The account's own settings: ``video_on_device_only`` (live pose on the device; the server refuses frames)."""
    account = db.get(User, user.id)
    account.video_on_device_only = body.video_on_device_only
    db.commit()
    return account
