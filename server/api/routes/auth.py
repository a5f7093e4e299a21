"""Log in (OAuth2 password flow), log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from formcheck.storage.database import User
from server.api.deps import DB, CurrentUser, SettingsDep
from server.api.errors import Problem
from server.api.schemas import TokenOut, UserOut
from server.core.auth import COOKIE_NAME, create_token, dummy_verify, hash_password, needs_rehash, verify_password

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DB,
    settings: SettingsDep,
    request: Request,
    response: Response,
):
    """Exchange username and password for a bearer token (also set as the HttpOnly ``formcheck_token`` cookie)."""
    throttle, address = request.app.state.login_throttle, request.client.host if request.client else ""
    throttle.check(form.username, address)
    user = db.scalars(select(User).where(User.username == form.username)).first()
    if user is None:
        dummy_verify(form.password)
    if user is None or not user.active or not verify_password(user.password_hash, form.password):
        throttle.failed(form.username, address)
        raise Problem(401, "Wrong username or password.", "Login failed", {"WWW-Authenticate": "Bearer"})
    throttle.succeeded(form.username, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password)
        db.commit()
    token = create_token(user.id, user.role, settings.jwt_secret, settings.token_minutes)
    max_age = settings.token_minutes * 60
    response.set_cookie(
        COOKIE_NAME, token, max_age=max_age, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )
    return TokenOut(access_token=token, expires_in=max_age, role=user.role, user_id=user.id)


@router.post("/auth/logout", status_code=204)
def logout(response: Response) -> Response:
    """Forget the login cookie."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser):
    """The logged-in account."""
    return user
