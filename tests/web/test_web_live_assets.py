"""The files of on-device pose: the vendored MediaPipe web runtime and our pose bundles, with their content types
and cache headers; the exercise page allows WebAssembly and says where the runtime is."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings

from formcheck.pose.models import ModelError, check_model
from server.web.assets import RUNTIME_FILES, runtime_version


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    if runtime_version() is None:
        pytest.skip("the on-device pose runtime is not vendored (run `make web-vendor`)")
    with api_client(make_settings(tmp_path_factory.mktemp("assets"))) as client:
        yield client


def test_runtime_files_are_served_with_their_types_and_cached_for_good(client):
    base = f"/assets/tasks-vision/{runtime_version()}"
    for name, media_type in RUNTIME_FILES.items():
        r = client.get(f"{base}/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == media_type
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(f"{base}/vision_wasm_internal.wasm").content[:4] == b"\0asm"
    old_version = "/assets/tasks-vision/0.0.1/vision_bundle.mjs"
    for bad in (f"{base}/package.json", f"{base}/..%2F..%2F__init__.py", old_version):
        assert client.get(bad).status_code == 404, bad


def test_pose_models_are_our_bundles(client):
    settings = client.app.state.settings
    try:
        path = check_model("lite", settings.models_dir)
    except ModelError as exc:
        pytest.skip(f"pose model not built: {exc}")
    r = client.get("/assets/models/pose_landmarker_lite.task")
    assert r.status_code == 200 and r.content == path.read_bytes()
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["cache-control"] == "public, max-age=86400" and r.headers["etag"]
    assert client.get("/assets/models/pose_landmarker_heavy.task").status_code == 404
    assert client.get("/assets/models/pose_landmarker_..%2Fsecret_key.task").status_code == 404


def test_exercise_page_allows_webassembly_and_names_the_runtime(client):
    add_user(client, "thera")
    create_patient(client, login(client, "thera"), "pat1")
    client.cookies.set("formcheck_token", login(client, "pat1")["Authorization"].split()[1])
    page = client.get("/exercise?exercise=squat")
    assert "script-src 'self' 'wasm-unsafe-eval'" in page.headers["content-security-policy"]
    assert f'data-runtime="/assets/tasks-vision/{runtime_version()}"' in page.text
    other = client.get("/patient")
    assert "wasm-unsafe-eval" not in other.headers["content-security-policy"]
