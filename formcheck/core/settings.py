"""The one settings object of the CLI and the server: ``FORMCHECK_*`` environment variables (or a ``.env`` file)
with safe defaults for a single machine."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/formcheck`` (the XDG convention: ``~/.local/share/formcheck`` when it is unset)."""
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "formcheck"


class Settings(BaseSettings):
    """Every setting, read from ``FORMCHECK_<NAME>`` (e.g. ``FORMCHECK_DATABASE_URL``, ``FORMCHECK_DATA_DIR``,
    ``FORMCHECK_EXERCISE_DIR``, ``FORMCHECK_SECRET_KEY``, ``FORMCHECK_JOB_WORKERS``)."""

    model_config = SettingsConfigDict(env_prefix="FORMCHECK_", env_file=".env", extra="ignore")

    # where things are
    data_dir: Path = Field(default_factory=default_data_dir)  # database, uploads, videos, landmarks, secret key
    database_url: str | None = None  # any SQLAlchemy URL; default: SQLite file in data_dir
    exercise_dir: Path | None = None  # the clinic's own exercise specs (*.yaml): extend or override the catalog
    models_dir: Path = PACKAGE_MODELS_DIR  # pose model bundles (formcheck models build)
    model: str = "full"  # pose model: lite, full or heavy
    # server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str | None = None  # default: generated on first start and kept in data_dir/secret_key
    token_minutes: int = 12 * 60
    cookie_secure: bool = False  # set when served over HTTPS
    max_upload_mb: float = 500
    max_video_minutes: float = 30
    job_workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))  # 0: run jobs in-process
    job_max_attempts: int = 3
    live_max_frame_bytes: int = 4 * 1024 * 1024
    login_max_failures: int = 5  # failed logins per username and address ...
    login_window_s: float = 300  # ... within this many seconds lock that pair out until the window passes
    # distributed configuration (all unset: the embedded single-machine default)
    redis_url: str | None = None  # shared state across API processes: login throttle, live-session limits, progress
    broker_url: str | None = None  # Celery broker (redis://... or amqp://...); unset: jobs run in this process's pool
    storage_url: str | None = None  # video storage: unset = data_dir; s3://bucket/prefix = S3-compatible storage
    s3_endpoint_url: str | None = None  # S3-compatible server (MinIO, moto, ...); unset: AWS

    @cached_property
    def db_url(self) -> str:
        """``database_url``, else a SQLite file in the data folder (created; ``OSError`` when it cannot be)."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'formcheck.db'}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def video_dir(self) -> Path:
        return self.data_dir / "videos"

    @property
    def landmarks_dir(self) -> Path:
        return self.data_dir / "landmarks"

    @cached_property
    def jwt_secret(self) -> str:
        """The signing key: ``secret_key``, else generated once and stored (0600) in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
