"""Health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from formcheck import __version__ as version
from server.api.errors import Problem

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health(request: Request) -> dict:
    """``{"status": "ok"}`` when the database answers."""
    store = request.app.state.store
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        raise Problem(503, "The database does not answer.", "Unavailable") from None
    return {
        "status": "ok",
        "version": version,
        "database": store.engine.dialect.name,
        "job_workers": request.app.state.settings.job_workers,
        "model": request.app.state.settings.model,
    }
