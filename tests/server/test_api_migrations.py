"""Alembic migrations: a fresh database, a database made before migrations existed, and models == migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from formcheck.storage.database import Base, Store
from formcheck.storage.migrations import current_revision, upgrade


def head() -> str:
    from alembic.script import ScriptDirectory

    from formcheck.storage.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()


def test_fresh_database_is_migrated_to_head(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(store.engine) == head()
    assert {"users", "sessions", "jobs", "programmes"} <= set(inspect(store.engine).get_table_names())


def test_database_made_before_migrations_is_stamped_and_upgraded(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")  # exactly the tables create_all made before migrations existed
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role, display_name, level, keep_videos, "
                "active, created_at) VALUES ('old', 'x', 'patient', '', 'initial', 0, 1, '2026-01-01')"
            )
        )
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    assert current_revision(store.engine) == head()
    columns = {c["name"] for c in inspect(store.engine).get_columns("programmes")}
    assert "description" in columns
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalar_one() == "old"


def test_models_and_migrations_agree(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'cmp.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"store.py changed without a migration: {diff}"
