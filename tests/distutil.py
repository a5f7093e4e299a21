"""Helpers for the distributed-configuration tests: the machine's Redis and PostgreSQL (a fresh schema), a real
S3-speaking server (moto in server mode on a free port), short clips cut from the bundled sample."""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import cv2
import pytest

from formcheck.bench.server import free_port

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "squat_side.mp4"
PG_BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MACHINE_REDIS = "redis://127.0.0.1:6379/0"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1"}


def machine_redis() -> str:
    """The machine's Redis URL, or a skip with the reason."""
    import redis

    try:
        redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {MACHINE_REDIS}: {type(exc).__name__}")
    return MACHINE_REDIS


def redis_server_binary() -> str:
    from formcheck.bench.jobs import REDIS_SERVER

    if not Path(REDIS_SERVER).is_file():
        pytest.skip(f"redis-server not found ({REDIS_SERVER}): needed for a private broker to restart")
    return REDIS_SERVER


@contextmanager
def postgres_schema():
    """A fresh schema on the machine's PostgreSQL (dropped afterwards); its URL. Skips when unreachable."""
    pytest.importorskip("psycopg")
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_BASE_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {PG_BASE_URL}: {type(exc).__name__}")
    schema = f"fc_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def moto_s3():
    """moto's S3 server on 127.0.0.1 (a free port) with a fresh bucket; (endpoint URL, storage URL)."""
    pytest.importorskip("moto.server")
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in S3_CREDENTIALS}
    os.environ.update(S3_CREDENTIALS)
    endpoint, bucket = f"http://127.0.0.1:{port}", f"fc-{uuid.uuid4().hex[:12]}"
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        yield endpoint, f"s3://{bucket}/formcheck"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cut_clip(path: Path, start_s: float, seconds: float, source: Path = SAMPLE) -> Path:
    """Frames ``start_s`` .. ``start_s + seconds`` of the sample as an MP4 (7.5 s + 5 s holds its first squat)."""
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.set(cv2.CAP_PROP_POS_FRAMES, round(start_s * fps))
    writer = None
    for _ in range(round(seconds * fps)):
        ok, image = capture.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, image.shape[1::-1])
        writer.write(image)
    writer.release()
    capture.release()
    return path
