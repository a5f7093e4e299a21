"""The server's settings are the one settings object of formcheck (:class:`formcheck.core.settings.Settings`)."""

from __future__ import annotations

from formcheck.core.settings import Settings

__all__ = ["Settings"]
