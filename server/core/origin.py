"""Cross-site request checks: a cookie-authenticated change must come from the server's own pages.

Browsers send ``Origin`` (or at least ``Referer``) on cross-site requests, so a page on another site that makes
the browser post with the login cookie is recognised and refused. Requests without either header are not from
a browser page on another site (curl, scripts, the test client) and pass; bearer-token requests are not
CSRF-able at all (another site cannot make the browser add an ``Authorization`` header).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.errors import problem_response
from server.core.settings import Settings

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _normalise(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, ws/wss counted as http/https; None when it is not one."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def _own_origins(headers: Mapping[str, str], settings: Settings) -> set[tuple[str, str, int]]:
    host = headers.get("host", "")
    own = {o for o in (_normalise(f"{scheme}://{host}") for scheme in ("http", "https")) if o} if host else set()
    own |= {o for o in (_normalise(url) for url in settings.allowed_origins) if o}
    return own


def origin_allowed(headers: Mapping[str, str], settings: Settings) -> bool:
    """True when the request's ``Origin`` (or, absent, ``Referer``) is absent or is the server's own origin
    (from the ``Host`` header, either scheme) or one of ``settings.allowed_origins``. ``headers`` is any
    case-insensitive mapping (Starlette's request or WebSocket headers); keys are looked up in lower case."""
    claimed = headers.get("origin") or headers.get("referer")
    if not claimed:
        return True
    if claimed.strip() == "null":  # sandboxed frames, file:// pages, some redirects: never our own page
        return False
    origin = _normalise(claimed)
    return origin is not None and origin in _own_origins(headers, settings)


def cross_site_detail(headers: Mapping[str, str]) -> str:
    """The 403 message for a refused request, naming the origin it came from."""
    claimed = (headers.get("origin") or headers.get("referer") or "")[:200]
    return (f"This request came from another site ({claimed}) with your login cookie and was refused; "
            "use formcheck's own pages, or send a bearer token.")


class CrossSiteGuard:
    """ASGI middleware: a state-changing request (POST, PUT, PATCH, DELETE) that carries the login cookie and no
    bearer token, or that logs in, is refused (403) when it comes from another site's page."""

    def __init__(self, app: ASGIApp, settings: Settings, cookie_name: str, login_path: str = "/api/auth/token"):
        self.app, self.settings, self.cookie_name, self.login_path = app, settings, cookie_name, login_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING:
            headers = Headers(scope=scope)
            bearer = headers.get("authorization", "").lower().startswith("bearer ")
            cookie = f"{self.cookie_name}=" in headers.get("cookie", "")
            guarded = scope["path"] == self.login_path or (cookie and not bearer)
            if guarded and not origin_allowed(headers, self.settings):
                response = problem_response(403, "Cross-site request refused", cross_site_detail(headers))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
