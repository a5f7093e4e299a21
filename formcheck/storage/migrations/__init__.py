"""Alembic migrations of the formcheck database, applied programmatically (``upgrade(engine)``).

Databases made before migrations existed (tables created straight from the models) are stamped with the
first revision, which is exactly that schema, and then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent
FIRST_REVISION = "0001"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (default: the newest)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # API processes and workers starting together migrate one at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(7146372251)"))
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "users" in tables and "alembic_version" not in tables:
            command.stamp(cfg, FIRST_REVISION)
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
