"""Every error is a JSON problem ({"title", "detail", "status"}, RFC 9457 style) with a message for a person."""

from __future__ import annotations

import logging
from html import escape
from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("formcheck.server")
PROBLEM = "application/problem+json"


class Problem(HTTPException):
    """An error for the person calling the API."""

    def __init__(self, status: int, detail: str, title: str | None = None, headers: dict | None = None):
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.title = title or HTTPStatus(status).phrase


def not_found(what: str = "resource") -> Problem:
    return Problem(404, f"No such {what}.", "Not found")


def problem_response(status: int, title: str, detail: str, headers: dict | None = None) -> JSONResponse:
    body = {"title": title, "detail": detail, "status": status}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            loc, msg = [], "the request body is not valid JSON"
        elif err.get("type") == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def _page_problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse | None:
    """For a browser opening a web page (not the API): the problem as a small HTML page instead of JSON."""
    api = request.url.path.startswith(("/api", "/docs", "/static", "/openapi"))
    if api or "text/html" not in request.headers.get("accept", ""):
        return None
    title, detail = escape(title), escape(detail)
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · formcheck</title>'
        '<link rel="stylesheet" href="/static/web/app.css"></head><body>'
        '<header class="topbar"><a class="brand" href="/">formcheck</a></header>'
        f'<main id="main"><h1>{title}</h1><p>{detail}</p><p><a href="/">Back to the start page</a></p></main>'
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a problem response."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException):
        title = getattr(exc, "title", None) or HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Nothing at {request.url.path}."
            page = _page_problem(request, 404, "Page not found", f"There is no page at {request.url.path}.")
        else:  # e.g. the PDF report of a session that does not exist
            page = _page_problem(request, exc.status_code, title, detail)
        if page:
            return page
        return problem_response(exc.status_code, title, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError):
        page = _page_problem(request, 404, "Page not found", f"There is no page at {request.url.path}.")
        return page or problem_response(422, "Invalid request", _validation_detail(exc))

    @app.exception_handler(Exception)
    async def unexpected_problem(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(500, "Internal Server Error", "Something went wrong on the server; it was logged.")
