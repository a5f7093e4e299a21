"""Headers on every response: ``X-Content-Type-Options: nosniff`` everywhere, ``Cache-Control: no-store`` on
everything but the static files (API answers, PDF and CSV reports, videos and pages are private)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_PREFIXES = ("/static/", "/docs-static/", "/assets/")  # /assets/: on-device pose runtime, models


class SecurityHeaders:
    """ASGI middleware adding the headers above (a route's own ``Cache-Control`` is replaced on private paths)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = not scope["path"].startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
