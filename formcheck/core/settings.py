"""The one settings object of the CLI and the server: ``FORMCHECK_*`` environment variables (or a ``.env`` file)
with safe defaults for a single machine."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_models_dir() -> Path:
    """The pose model bundles' folder: ``models/`` in the user's data folder (platformdirs)."""
    from formcheck.pose.models import default_models_dir as models_default

    return models_default()


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
    # pose model bundles (formcheck models build): FORMCHECK_MODELS, or the older FORMCHECK_MODELS_DIR
    models_dir: Path = Field(default_factory=default_models_dir,
                             validation_alias=AliasChoices("FORMCHECK_MODELS", "FORMCHECK_MODELS_DIR", "models_dir"))
    model: str = "full"  # pose model: lite, full or heavy
    # recorded videos: the pose model sees 1 frame in up to this many while the body is still (1: every frame; the
    # stride is off by default until it loses nothing on `formcheck eval`, see docs/architecture.md)
    max_stride: int = Field(1, ge=1, le=8)
    # recorded videos: pose estimators working at once on parts of one video (one per core; 1: one part)
    pose_threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)), ge=1, le=16)
    # the pose model sees frames scaled down to at most this many pixels on the longer side (0: full size); its
    # inputs are 224-256 px squares, so larger frames only cost copying and scaling (docs/architecture.md)
    pose_input_side: int = Field(640, ge=0, le=8192)
    # server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str | None = None  # default: generated on first start and kept in data_dir/secret_key
    token_minutes: int = 12 * 60
    # argon2id parameters of new password hashes (server/core/auth.py; older hashes are redone at the next login):
    # RFC 9106's 64 MiB, 3 passes; its 2 GiB, 1 pass; or the cheapest, only ever for test suites
    password_hash: Literal["rfc9106-low-memory", "rfc9106-high-memory", "cheapest-for-tests"] = "rfc9106-low-memory"
    cookie_secure: bool = False  # set when served over HTTPS
    max_upload_mb: float = 500
    max_video_minutes: float = 30
    job_workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))  # 0: run jobs in-process
    job_max_attempts: int = 3
    live_max_frame_bytes: int = 4 * 1024 * 1024
    # live WebSocket limits (docs/web.md): connections, message rates, the pain report interval, inference threads
    live_max_connections: int = 40  # live sessions at once, all users (shared across processes with redis_url)
    live_max_connections_per_user: int = 2  # live sessions at once of one user
    live_max_frames_per_s: float = 30  # JPEG frames per second of one session (a camera's rate; the page sends 15)
    live_max_landmarks_per_s: float = 40  # landmark messages per second of one session (camera rate is <= 30)
    live_max_controls_per_s: float = 5  # pain / next / frame_time-less text messages per second
    live_pain_interval_s: float = 3.0  # one pain report per this many seconds; more are answered, not stored
    live_inference_threads: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1))
    # sessions whose pose the server finds (frames mode) at once in one process: each holds a model (~150 MB)
    live_max_server_pose_sessions: int = Field(default_factory=lambda: 4 * (os.cpu_count() or 1))
    login_max_failures: int = 5  # failed logins per username and address ...
    login_window_s: float = 300  # ... within this many seconds lock that pair out until the window passes
    login_max_failures_per_user: int = 20  # failed logins for one username from any address, per window
    login_max_failures_per_address: int = 50  # failed logins from one address for any username, per window
    login_throttle_max_keys: int = 100_000  # in-memory throttle: most (hashed) keys tracked at once
    # security limits (docs/server.md, "Security")
    allowed_origins: list[str] = []  # extra origins (scheme://host[:port]) allowed for cookie-authenticated changes
    max_request_kb: int = 1024  # any request body except uploads (exercise specs: 64 KB, login: 16 KB)
    max_video_pixels: int = 4096 * 2160  # width x height of an uploaded video, from its header
    max_video_frames: int = 200_000  # frames of an uploaded video, from its header
    max_video_decoded_gb: float = 400  # width x height x 3 bytes x frames: what analysing it would decode
    # distributed configuration (all unset: the embedded single-machine default)
    redis_url: str | None = None  # shared state across API processes: login throttle, live-session limits, progress
    broker_url: str | None = None  # Celery broker (redis://... or amqp://...); unset: jobs run in this process's pool
    storage_url: str | None = None  # video storage: unset = data_dir; s3://bucket/prefix = S3-compatible storage
    s3_endpoint_url: str | None = None  # S3-compatible server (MinIO, moto, ...); unset: AWS
    job_queue: str = "formcheck"  # Celery queue name (and Redis key prefix) of the analysis jobs
    job_visibility_timeout_s: float = 3600  # Redis broker: a job a killed worker had is re-delivered after this
    job_lease_s: float = 60  # a running job's claim, renewed while it runs; another worker may take it once expired
    upload_retention_days: float = 30  # uploads of failed or cancelled jobs are deleted after this (retry until then)

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
