"""The web app: server-rendered page shells (Jinja2) whose small JavaScript modules call the JSON API.

Pages only need the ``formcheck_token`` cookie to be present; the data (and every access check) comes from
the API, which the scripts call with that cookie. ``create_app()`` includes :data:`router`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from server.web.assets import router as assets_router
from server.web.assets import runtime_base
from server.web.report_pdf import router as pdf_router

HERE = Path(__file__).parent
COOKIE_NAME = "formcheck_token"
STATIC_URL = "/static/web"

templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
router.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="web-static")
router.include_router(pdf_router)
router.include_router(assets_router)  # on-device pose: the vendored WASM runtime and the model bundles


# Pages only run their own scripts and talk to their own server (defence in depth against injected markup).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _render(request: Request, template: str, title: str, role: str, script: str, **context) -> Response:
    return templates.TemplateResponse(
        request,
        template,
        {"title": title, "role": role, "script": script, "static": STATIC_URL, **context},
        headers=SECURITY_HEADERS,
    )


def _page(request: Request, template: str, title: str, role: str | None, script: str, **context) -> Response:
    """A page for a signed-in user of ``role`` (None: any role); the login page when there is no cookie."""
    if COOKIE_NAME not in request.cookies:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
    return _render(request, template, title, role or "", script, **context)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    """Sends each user to their start page (the script asks the API who is signed in)."""
    return _page(request, "home.html", "formcheck", None, "home")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    return _render(request, "login.html", "Log in", "", "login")


@router.post("/logout")
def logout(request: Request) -> Response:
    """Ends the account's tokens and forgets the login cookie (it is HttpOnly, so the page cannot)."""
    from server.api.routes.auth import revoke_tokens

    revoke_tokens(request)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


# Therapist pages
@router.get("/therapist", response_class=HTMLResponse)
def patients_page(request: Request):
    return _page(request, "patients.html", "Patients", "therapist", "patients")


@router.get("/therapist/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, patient_id: int):
    return _page(request, "patient.html", "Patient", "therapist", "patient", patient_id=patient_id)


@router.get("/programmes", response_class=HTMLResponse)
def programmes_page(request: Request):
    return _page(request, "programmes.html", "Programmes", "therapist", "programmes")


@router.get("/programmes/new", response_class=HTMLResponse)
def new_programme_page(request: Request):
    return _page(request, "programme_edit.html", "New programme", "therapist", "programme_edit", programme_id="")


@router.get("/programmes/{programme_id}", response_class=HTMLResponse)
def programme_page(request: Request, programme_id: int):
    return _page(
        request, "programme_edit.html", "Edit programme", "therapist", "programme_edit", programme_id=programme_id
    )


# Pages for both roles (the API decides what each may see)
@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: int):
    return _page(request, "session.html", "Session", None, "session", session_id=session_id)


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request):
    return _page(request, "upload.html", "Upload a video", None, "upload")


# Patient pages
@router.get("/patient", response_class=HTMLResponse)
def today_page(request: Request):
    return _page(request, "today.html", "Today's programme", "patient", "today")


@router.get("/exercise", response_class=HTMLResponse)
def exercise_page(request: Request):
    response = _page(request, "exercise.html", "Exercise", "patient", "exercise", runtime=runtime_base() or "")
    if "Content-Security-Policy" in response.headers:  # the on-device pose model is WebAssembly
        csp = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = csp.replace("script-src 'self'",
                                                                  "script-src 'self' 'wasm-unsafe-eval'")
    return response


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request):
    return _page(request, "history.html", "My sessions", "patient", "history")
