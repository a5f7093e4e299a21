"""The files the exercise page needs for on-device pose: MediaPipe's web runtime (``@mediapipe/tasks-vision``,
vendored into ``static/vendor`` by ``make setup``) and our own pose model bundles.

Only names from a fixed list are served (nothing from the URL becomes a path). The runtime's URL carries its
version, so it is cached for a year; the models are cached for a day and revalidated by their ETag.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from server.api.errors import Problem

VENDOR_DIR = Path(__file__).parent / "static" / "vendor" / "tasks-vision"
RUNTIME_FILES = {
    "vision_bundle.mjs": "text/javascript",
    "vision_wasm_internal.js": "text/javascript",
    "vision_wasm_internal.wasm": "application/wasm",
    "vision_wasm_nosimd_internal.js": "text/javascript",
    "vision_wasm_nosimd_internal.wasm": "application/wasm",
}
WEB_MODELS = ("lite", "full")  # heavy is too slow for a browser
RUNTIME_CACHE = "public, max-age=31536000, immutable"
MODEL_CACHE = "public, max-age=86400"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def runtime_version() -> str | None:
    """The vendored ``@mediapipe/tasks-vision`` version, None when ``make setup`` has not vendored it."""
    try:
        return json.loads((VENDOR_DIR / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def runtime_base() -> str | None:
    """The URL folder of the runtime files (versioned), None when it is not installed."""
    version = runtime_version()
    return f"/assets/tasks-vision/{version}" if version else None


@router.get("/assets/tasks-vision/{version}/{name}")
def tasks_vision_file(version: str, name: str) -> FileResponse:
    """One file of the vendored web runtime (WASM as ``application/wasm``)."""
    if version != runtime_version() or name not in RUNTIME_FILES:
        raise Problem(404, "No such file of the on-device pose runtime.", "Not found")
    return FileResponse(VENDOR_DIR / name, media_type=RUNTIME_FILES[name], headers={"Cache-Control": RUNTIME_CACHE})


@router.get("/assets/models/pose_landmarker_{variant}.task")
def pose_model_file(request: Request, variant: str) -> FileResponse:
    """A pose model bundle, the same file the server's Python side uses (checked against its checksum)."""
    from formcheck.pose.models import ModelError, check_model

    if variant not in WEB_MODELS:
        raise Problem(404, f"On-device pose models are {', '.join(WEB_MODELS)}.", "Not found")
    try:
        path = check_model(variant, request.app.state.settings.models_dir)
    except ModelError as exc:
        raise Problem(503, f"The pose model is not available: {exc}", "Model missing") from None
    return FileResponse(path, media_type="application/octet-stream", headers={"Cache-Control": MODEL_CACHE})
