"""The FastAPI application: ``create_app()`` (run by ``formcheck serve``)."""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from formcheck import __version__
from formcheck.engine.catalog import use_catalog
from formcheck.storage.database import Store, User
from server.api import errors
from server.api.routes import audit, auth, exercises, health, jobs, live, patients, programmes, sessions, uploads
from server.core.auth import COOKIE_NAME
from server.core.files import secure_data_dir
from server.core.headers import SecurityHeaders
from server.core.limits import BodyLimit, body_limits
from server.core.origin import CrossSiteGuard
from server.core.settings import Settings
from server.core.throttle import make_throttle
from server.jobs.runner import make_job_runner
from server.services.catalog import configure_catalog
from server.services.live_runtime import start_live
from server.services.programmes import seed_builtin
from server.web import router as web_router

log = logging.getLogger("formcheck.server")
SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"
_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Keep login tokens (``/api/live?token=...``) out of the server's logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1[redacted]", message), ()
        return True


def _redact_server_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def _offline_docs(app: FastAPI) -> None:
    """OpenAPI docs at /docs with Swagger UI served from the package (scripts/vendor-swagger-ui.sh)."""
    if not SWAGGER_DIR.is_dir():
        return
    app.mount("/docs-static", StaticFiles(directory=SWAGGER_DIR), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="formcheck API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png",
            oauth2_redirect_url=None,
        )


def _lifespan(settings: Settings):
    """Start-up and shut-down: the store (migrated), built-in programmes, the catalog, the job runner."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = Store(settings.db_url)
        secure_data_dir(settings)  # folders 0700, the database and existing files 0600
        with store.session() as db:
            seed_builtin(db)
            if db.scalars(select(User.id).where(User.role == "therapist")).first() is None:
                log.warning("no therapist account yet: create one with  formcheck users add NAME --role therapist")
        if settings.password_hash == "cheapest-for-tests":
            log.warning("FORMCHECK_PASSWORD_HASH=cheapest-for-tests: password hashes are easy to crack; only for "
                        "test suites")
        app.state.settings, app.state.store = settings, store
        configure_catalog(settings, store)  # built-ins + the clinic's folder + specs stored in the database
        app.state.login_throttle = make_throttle(settings)  # in memory, or shared through Redis (redis_url)
        app.state.jobs = make_job_runner(store, settings)  # in-process pool, or Celery when broker_url is set
        app.state.jobs.resume()
        await start_live(app)  # live runtime; sessions a killed process left recording closed as interrupted
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            use_catalog(None)
            store.close()

    return lifespan


def _guard(app: FastAPI, settings: Settings) -> None:
    """Body limits while the body arrives (innermost), cross-site checks, then the security headers on every
    response (outermost, so refusals carry them too)."""
    app.add_middleware(BodyLimit, limit_for=body_limits(settings.max_upload_mb, settings.max_request_kb))
    app.add_middleware(CrossSiteGuard, settings=settings, cookie_name=COOKIE_NAME)
    app.add_middleware(SecurityHeaders)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app: migrates the database, seeds built-in programmes, configures the exercise catalog (built-ins, the
    clinic's folder, the database) and starts the job runner (resuming jobs)."""
    settings = settings or Settings()
    _redact_server_logs()
    app = FastAPI(
        title="formcheck",
        version=__version__,
        description="Exercise form checking for back-pain rehabilitation: patients, programmes, uploads analysed "
        "in the background, live sessions over WebSocket, scored sessions, the exercise catalog.",
        lifespan=_lifespan(settings),
        docs_url=None,  # served below from vendored Swagger UI files: no CDN needed
    )
    errors.install(app)
    _guard(app, settings)
    _offline_docs(app)
    for module in (health, auth, patients, exercises, programmes, uploads, jobs, sessions, live, audit):
        app.include_router(module.router)
    app.include_router(web_router)
    return app
