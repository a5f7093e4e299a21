"""Video storage behind one small interface: :class:`LocalVideoStore` (the data folder, the default) or
:class:`S3VideoStore` (``storage_url = s3://bucket/prefix``, any S3-compatible server at ``s3_endpoint_url``).

Two kinds of object: ``uploads`` (what a patient sent, kept until its job succeeds or its retention ends) and
``videos`` (annotated videos of kept sessions). Names are made by the server (hex + suffix) and checked here, so
nothing a user sends becomes a path or a key. Files being written (uploads being received, annotated videos being
encoded, S3 downloads) live in ``data_dir/tmp`` under ``<pid>-<hex>.part.<suffix>`` names and move into place only when
complete; :func:`sweep_partial` removes those of processes that are gone.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from formcheck.core.settings import Settings

UPLOADS, VIDEOS = "uploads", "videos"
KINDS = (UPLOADS, VIDEOS)
_NAME = re.compile(r"^[0-9a-f]{32}\.(video|webm|mp4)$")


class StorageError(RuntimeError):
    """The video storage cannot be reached or refused an operation."""


def check_name(kind: str, name: str) -> str:
    """A server-made object name (``<32 hex>.<suffix>``) of a known kind; ``ValueError`` for anything else."""
    if kind not in KINDS or not _NAME.match(name or ""):
        raise ValueError(f"not a stored video name: {kind}/{name!r}")
    return name


def new_name(suffix: str) -> str:
    return f"{uuid.uuid4().hex}.{suffix}"


class VideoStore(Protocol):
    """Uploads and annotated videos, wherever they are kept."""

    def put(self, kind: str, name: str, local: Path) -> None:
        """Move a complete local file into storage under ``name`` (atomically: readers never see a part)."""

    @contextmanager
    def local_copy(self, kind: str, name: str) -> Iterator[Path]:
        """A local file with the object's bytes, for as long as the context lasts."""

    def exists(self, kind: str, name: str) -> bool: ...

    def delete(self, kind: str, name: str) -> None:
        """Remove the object (nothing happens when it is already gone)."""

    def names(self, kind: str) -> Iterator[tuple[str, float]]:
        """Every stored object of a kind: (name, modification time as a Unix timestamp)."""

    def local_path(self, kind: str, name: str) -> Path | None:
        """The object's file when it is on this machine's disk (served directly), else ``None``."""

    def iter_bytes(self, kind: str, name: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes, in chunks (to stream it to a browser)."""


def temp_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / "tmp"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def temp_path(data_dir: Path, suffix: str = "bin") -> Path:
    """A fresh local file name for something this process writes (``<pid>-<hex>.part.<suffix>``: the suffix
    last, so encoders pick the container from it)."""
    return temp_dir(data_dir) / f"{os.getpid()}-{uuid.uuid4().hex}.part.{suffix}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_partial(data_dir: Path) -> list[str]:
    """Delete partial files (``data_dir/tmp/<pid>-*.part.*``) whose writing process is gone (killed mid-write)."""
    removed = []
    folder = Path(data_dir) / "tmp"
    for path in folder.glob("*-*.part.*") if folder.is_dir() else ():
        pid = path.name.split("-", 1)[0]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


class LocalVideoStore:
    """Videos in the data folder: ``data_dir/uploads`` and ``data_dir/videos`` (0700 folders)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    def _path(self, kind: str, name: str) -> Path:
        return self.data_dir / kind / check_name(kind, name)

    def put(self, kind: str, name: str, local: Path) -> None:
        target = self._path(kind, name)
        if Path(local) == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.replace(local, target)  # atomic within one file system (data_dir/tmp is beside it)
        except OSError:  # another file system: copy beside the target, then rename
            part = target.with_name(target.name + ".part")
            shutil.copyfile(local, part)
            os.replace(part, target)
            Path(local).unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, kind: str, name: str) -> Iterator[Path]:
        path = self._path(kind, name)
        if not path.is_file():
            raise FileNotFoundError(f"{kind}/{name} is not stored")
        yield path

    def exists(self, kind: str, name: str) -> bool:
        return self._path(kind, name).is_file()

    def delete(self, kind: str, name: str) -> None:
        self._path(kind, name).unlink(missing_ok=True)

    def names(self, kind: str) -> Iterator[tuple[str, float]]:
        folder = self.data_dir / kind
        for path in folder.iterdir() if folder.is_dir() else ():
            if _NAME.match(path.name):
                try:
                    yield path.name, path.stat().st_mtime
                except FileNotFoundError:
                    continue

    def local_path(self, kind: str, name: str) -> Path | None:
        path = self._path(kind, name)
        return path if path.is_file() else None

    def iter_bytes(self, kind: str, name: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        with self._path(kind, name).open("rb") as f:
            while block := f.read(chunk):
                yield block


class S3VideoStore:
    """Videos as objects ``<prefix>/<kind>/<name>`` in an S3 bucket (AWS, MinIO, Ceph, moto ...), via boto3.

    Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` ..., a profile, an instance role)."""

    def __init__(self, storage_url: str, data_dir: Path, endpoint_url: str | None = None, client=None):
        parsed = urlparse(storage_url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"storage_url must look like s3://bucket/prefix, not {storage_url!r}")
        self.bucket, self.prefix = parsed.netloc, parsed.path.strip("/")
        self.data_dir = Path(data_dir)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)
            client = boto3.client("s3", endpoint_url=endpoint_url, config=config)
        self.client = client

    def _key(self, kind: str, name: str) -> str:
        return "/".join(p for p in (self.prefix, kind, check_name(kind, name)) if p)

    def _call(self, what: str, fn, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(what) from exc
            raise StorageError(f"video storage refused {what}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"video storage unreachable ({what}): {exc}") from exc

    def put(self, kind: str, name: str, local: Path) -> None:
        key = self._key(kind, name)
        self._call(f"storing {key}", self.client.upload_file, str(local), self.bucket, key)  # complete or absent
        Path(local).unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, kind: str, name: str) -> Iterator[Path]:
        key = self._key(kind, name)
        path = temp_path(self.data_dir, name.rsplit(".", 1)[-1])
        try:
            self._call(f"reading {key}", self.client.download_file, self.bucket, key, str(path))
            yield path
        finally:
            path.unlink(missing_ok=True)

    def exists(self, kind: str, name: str) -> bool:
        try:
            self._call("checking", self.client.head_object, Bucket=self.bucket, Key=self._key(kind, name))
        except FileNotFoundError:
            return False
        return True

    def delete(self, kind: str, name: str) -> None:
        self._call("deleting", self.client.delete_object, Bucket=self.bucket, Key=self._key(kind, name))

    def names(self, kind: str) -> Iterator[tuple[str, float]]:
        prefix = "/".join(p for p in (self.prefix, kind) if p) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in self._call("listing", list, pages):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix):]
                if _NAME.match(name):
                    yield name, item["LastModified"].timestamp()

    def local_path(self, kind: str, name: str) -> Path | None:
        return None

    def iter_bytes(self, kind: str, name: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        body = self._call("reading", self.client.get_object, Bucket=self.bucket, Key=self._key(kind, name))["Body"]
        try:
            yield from body.iter_chunks(chunk)
        finally:
            body.close()


@lru_cache(maxsize=8)
def _cached(storage_url: str | None, endpoint_url: str | None, data_dir: str) -> VideoStore:
    if not storage_url:
        return LocalVideoStore(Path(data_dir))
    return S3VideoStore(storage_url, Path(data_dir), endpoint_url)


def video_store(settings: Settings) -> VideoStore:
    """The configured video storage (one object per configuration and process)."""
    return _cached(settings.storage_url, settings.s3_endpoint_url, str(settings.data_dir))


def video_response(settings: Settings, name: str | None):
    """The HTTP response for a stored annotated video (the file itself, or streamed from object storage); ``None``
    when it is not stored."""
    from fastapi.responses import FileResponse, StreamingResponse

    if not name or not _NAME.match(name):
        return None
    store = video_store(settings)
    media_type = "video/webm" if name.endswith(".webm") else "video/mp4"
    path = store.local_path(VIDEOS, name)
    if path is not None:
        return FileResponse(path, media_type=media_type)
    if not store.exists(VIDEOS, name):
        return None
    return StreamingResponse(store.iter_bytes(VIDEOS, name), media_type=media_type)
