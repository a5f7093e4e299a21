"""Request body limits, enforced while the body arrives: a ``Content-Length`` over the limit is refused before a
byte is read, and a body without one (chunked) is cut off at the first chunk past the limit."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.errors import Problem, problem_response

UPLOAD_PATH = "/api/uploads"
LOGIN_PATH = "/api/auth/token"
LOGIN_BODY_BYTES = 16 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and the text fields beside the video


def body_limits(max_upload_mb: float, max_request_kb: int) -> Callable[[str], int]:
    """The largest body (bytes) a path accepts: uploads up to the video limit, a login 16 KB, the rest
    ``max_request_kb``."""
    upload, other = int(max_upload_mb * 1024 * 1024) + FORM_OVERHEAD_BYTES, max_request_kb * 1024

    def limit(path: str) -> int:
        return upload if path == UPLOAD_PATH else LOGIN_BODY_BYTES if path == LOGIN_PATH else other

    return limit


def _too_large(limit: int) -> Problem:
    size = f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return Problem(413, f"The request body is larger than the limit of {size} for this address.", "Request too large")


class BodyLimit:
    """ASGI middleware: at most ``limit_for(path)`` bytes of request body, counted as they arrive."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]):
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            exc = _too_large(limit)
            await problem_response(413, exc.title, exc.detail, {"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited_receive, send)
