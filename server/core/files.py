"""The data folder is private: folders 0700, files 0600 (the database, uploads, videos, landmarks, the key)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from server.core.settings import Settings

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def _private(path: Path) -> None:
    mode = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)


def secure_data_dir(settings: Settings) -> None:
    """Create the data folder and its upload, video and landmark folders as 0700, and make the SQLite database
    (with its journal files) and every file already in those folders 0600. Files made later are created 0600 by
    the code that writes them (uploads) or by the server's umask (``formcheck serve`` sets 077)."""
    folders = [settings.data_dir, settings.upload_dir, settings.video_dir, settings.landmarks_dir]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        _private(folder)
    for folder in folders[1:]:
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink():
                _private(path)
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = Path(url.database + suffix)
            if path.is_file():
                _private(path)
    key = settings.data_dir / "secret_key"
    if key.is_file():
        _private(key)
