"""On-device pose in the browser, end to end: Chromium's fake webcam plays a real clip, the page runs MediaPipe's
web runtime (vendored WASM) with our pose bundle, and sends only landmark packets over the WebSocket; the engine
in the server counts. What crossed the WebSocket is inspected frame by frame. When the runtime cannot load, the
page falls back to server-side inference by itself, unless the video must stay on the device.

samples/squat_side.mp4 has two squats (about 8.9-11.3 s and 15.4-18.1 s); the fake camera plays 6.5-20.5 s.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from webutil import REPO, browser, log_in, page_errors, require_chromium, running_server, screenshot

from formcheck.bench.live_page import write_y4m
from server.services.live_messages import EMPTY_PACKET_BYTES, MAGIC, PACKET_BYTES
from server.web.assets import runtime_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CLIP = REPO / "samples" / "squat_side.mp4"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_chromium()
    if runtime_version() is None:
        pytest.skip("the on-device pose runtime is not vendored (run `make web-vendor`)")
    tmp = tmp_path_factory.mktemp("on-device")
    y4m = tmp / "squat.y4m"
    assert write_y4m(CLIP, y4m, 6.5, 20.5) > 200
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                   f"--use-file-for-fake-video-capture={y4m}"]
    with running_server(tmp / "server") as server, browser(fake_camera) as chromium:
        server.create_patient("therapist", "ada", "Ada Lovelace")
        yield server, chromium


def open_page(site, record: list, replies: list | None = None):
    server, chromium = site
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = page_errors(page)

    def watch(ws):
        ws.on("framesent", lambda payload: record.append(payload))
        if replies is not None:
            ws.on("framereceived", lambda payload: replies.append(payload))

    page.on("websocket", watch)
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    return context, page, errors


def test_on_device_mode_counts_a_real_clip_and_sends_no_image(site):
    server, _ = site
    sent, replies = [], []
    context, page, errors = open_page(site, sent, replies)
    page.goto(f"{server.url}/exercise?exercise=squat&model=lite")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#pose-mode")).to_contain_text("on this device (lite model)", timeout=60_000)
    count = page.locator("#rep-count")
    expect(count).to_have_text("2", timeout=90_000)
    screenshot(page, "patient-exercise-on-device", full_page=False)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator("#summary").wait_for(timeout=30_000)
    assert "2 repetitions" in page.locator("#summary-text").inner_text()
    session_id = int(page.locator("#summary-link").get_attribute("href").rsplit("/", 1)[1])
    context.close()
    assert not errors, errors

    binary = [p for p in sent if isinstance(p, bytes)]
    texts = [json.loads(p) for p in sent if isinstance(p, str)]
    assert len(binary) > 100  # about 15 per second: one per camera frame
    assert all(p[:4] == MAGIC and len(p) in (PACKET_BYTES, EMPTY_PACKET_BYTES) for p in binary)
    assert not any(p[:2] == b"\xff\xd8" for p in binary)  # no JPEG (nor anything else) but landmark packets;
    # the server's own count (below) also covers Blob sends, which Playwright does not report
    assert [t["type"] for t in texts] == ["stop"]
    stored = server.api("GET", f"/api/sessions/{session_id}", "therapist").json()
    assert stored["rep_count"] == 2 and stored["source"] == "websocket:landmarks" and stored["model"] == "lite"
    assert stored["frames"] == len(binary)  # every packet the page sent was analysed, none was an image
    summary = next(m for m in map(json.loads, replies) if m["type"] == "summary")  # what the server counted
    assert summary["received"]["image_messages"] == 0
    assert summary["received"]["landmark_messages"] == len(binary)


def test_the_page_falls_back_to_the_server_when_the_runtime_cannot_load(site):
    server, _ = site
    sent, replies = [], []
    context, page, errors = open_page(site, sent, replies)
    page.route("**/assets/**", lambda route: route.abort())  # as a browser that cannot fetch or run the WASM
    page.goto(f"{server.url}/exercise?exercise=squat")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#pose-mode")).to_contain_text("by the clinic's server", timeout=30_000)
    page.locator("#conn").filter(has_text="frames per second analysed").wait_for(timeout=60_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator("#summary").wait_for(timeout=30_000)
    context.close()
    assert not errors, errors
    # (Playwright does not report Blob sends, so the JPEGs show in the replies: poses found by the server)
    assert any(json.loads(p).get("type") == "frame_time" for p in sent if isinstance(p, str))
    frames = [m for m in map(json.loads, replies) if m["type"] == "frame"]
    assert frames and any(m["landmarks"] for m in frames)  # only server-side inference answers with landmarks


def test_video_never_leaves_the_device_forbids_the_fallback(site):
    server, _ = site
    sent: list = []
    context, page, errors = open_page(site, sent)
    page.route("**/assets/**", lambda route: route.abort())
    page.goto(f"{server.url}/exercise?exercise=squat")
    page.get_by_label("Video never leaves this device").check()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#page-error")).to_contain_text("must not leave this device", timeout=30_000)
    screenshot(page, "patient-exercise-on-device-only", full_page=False)
    page.reload()
    expect(page.get_by_label("Video never leaves this device")).to_be_checked()  # remembered by the browser
    context.close()
    assert not errors, errors
    assert sent == []  # nothing at all went to the server's WebSocket
