"""One settings object for the CLI and the server: FORMCHECK_* variables (or a .env file), safe defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formcheck.core.settings import Settings
from formcheck.storage.database import data_dir, default_database_url


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No FORMCHECK_* variable and no .env file of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("FORMCHECK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


def test_defaults_are_a_single_machine_setup(tmp_path):
    s = Settings()
    assert s.data_dir == tmp_path / "xdg" / "formcheck"
    assert s.db_url == f"sqlite:///{tmp_path / 'xdg' / 'formcheck' / 'formcheck.db'}"
    assert s.data_dir.is_dir()  # made for the SQLite file
    assert (s.model, s.exercise_dir, s.host, s.port) == ("full", None, "127.0.0.1", 8000)
    assert s.max_upload_mb == 500 and s.job_workers >= 1
    assert s.models_dir == tmp_path / "xdg" / "formcheck" / "models"  # platformdirs, unless FORMCHECK_MODELS


def test_the_environment_sets_every_field(monkeypatch, tmp_path):
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FORMCHECK_DATABASE_URL", "postgresql://u@db/formcheck")
    monkeypatch.setenv("FORMCHECK_EXERCISE_DIR", str(tmp_path / "clinic"))
    monkeypatch.setenv("FORMCHECK_MODEL", "lite")
    monkeypatch.setenv("FORMCHECK_MAX_UPLOAD_MB", "12.5")
    monkeypatch.setenv("FORMCHECK_JOB_WORKERS", "0")
    monkeypatch.setenv("FORMCHECK_SECRET_KEY", "k" * 40)
    s = Settings()
    assert s.data_dir == tmp_path / "data" and s.upload_dir == tmp_path / "data" / "uploads"
    assert s.db_url == "postgresql://u@db/formcheck"
    assert s.exercise_dir == tmp_path / "clinic"
    assert (s.model, s.max_upload_mb, s.job_workers, s.jwt_secret) == ("lite", 12.5, 0, "k" * 40)


def test_a_dotenv_file_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    Path(".env").write_text("FORMCHECK_MODEL=heavy\nFORMCHECK_TOKEN_MINUTES=5\n")
    assert (Settings().model, Settings().token_minutes) == ("heavy", 5)
    monkeypatch.setenv("FORMCHECK_MODEL", "lite")
    assert Settings().model == "lite"


def test_a_bad_value_names_the_setting(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("FORMCHECK_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValidationError, match="max_upload_mb"):
        Settings()


def test_storage_and_server_read_the_same_settings(monkeypatch, tmp_path):
    from server.core.settings import Settings as ServerSettings

    assert ServerSettings is Settings
    monkeypatch.setenv("FORMCHECK_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    assert default_database_url() == f"sqlite:///{tmp_path / 'd' / 'formcheck.db'}"
    monkeypatch.setenv("FORMCHECK_DATABASE_URL", "sqlite:///elsewhere.db")
    assert default_database_url() == "sqlite:///elsewhere.db"


def test_the_cli_uses_the_settings_database(monkeypatch, tmp_path):
    from formcheck.cli import app

    monkeypatch.setenv("FORMCHECK_DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.db'}")
    result = CliRunner().invoke(app, ["users", "list"])
    assert result.exit_code == 0 and "no accounts yet" in result.output
    assert (tmp_path / "clinic.db").is_file() and not (tmp_path / "xdg").exists()
