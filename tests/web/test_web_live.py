"""Exercising in the browser, end to end: Chromium's fake webcam plays a real clip; with ``?pose=server`` the page
streams JPEG frames to /api/live and the real pose model runs in the server (the fallback mode); otherwise the
page runs the pose model itself (test_web_live_on_device.py). The engine runs in the server; the page shows the count.

samples/squat_side.mp4 has two squats (about 8.9-11.3 s and 15.4-18.1 s). The fake camera plays 6.5-20.5 s
in a loop, so after the second squat there are about 5 s before the loop's next squat.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from webutil import REPO, browser, log_in, page_errors, require_chromium, running_server, screenshot, wait_until

from formcheck.bench.live_page import write_y4m  # also the page benchmark's

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIP = REPO / "samples" / "squat_side.mp4"


@pytest.fixture(scope="module")
def live_site(tmp_path_factory):
    """The server with one patient, and Chromium whose fake webcam plays 6.5-20.5 s of the squat clip."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("live")
    y4m = tmp / "squat.y4m"
    assert write_y4m(CLIP, y4m, 6.5, 20.5) > 200
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                   f"--use-file-for-fake-video-capture={y4m}"]
    with running_server(tmp / "server") as server, browser(fake_camera) as chromium:
        patient_id = server.create_patient("therapist", "ada", "Ada Lovelace")
        yield server, chromium, patient_id


@pytest.fixture
def patient_page(live_site):
    server, chromium, _ = live_site
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = page_errors(page)
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    yield page
    context.close()
    assert not errors, errors


def test_exercise_page_counts_squats_from_fake_webcam(live_site, patient_page):
    server, _, patient_id = live_site
    page = patient_page
    page.goto(f"{server.url}/exercise?exercise=squat&pose=server")  # server-side inference: the fallback
    page.get_by_role("button", name="Start").click()
    count = page.locator("#rep-count")
    # 14 s of clip in real time plus the model's start-up; the count must reach 2 during the first pass
    expect(count).to_have_text("2", timeout=90_000)
    assert page.locator("#overlay").evaluate("c => c.width > 0 && c.height > 0")
    screenshot(page, "patient-exercise", full_page=False)
    page.wait_for_timeout(1500)
    assert count.inner_text() == "2"  # no extra count at the end of the second squat

    page.get_by_role("button", name="Pain – stop").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("3", exact=True).check()
    dialog.get_by_label("Where").select_option("lower back")
    screenshot(page, "patient-pain-dialog", full_page=False)
    dialog.get_by_role("button", name="Stop and tell my therapist").click()
    summary = page.locator("#summary")
    summary.wait_for(timeout=30_000)
    assert "2 repetitions" in summary.inner_text()
    assert "pain reported" in summary.inner_text()
    session_id = int(page.locator("#summary-link").get_attribute("href").rsplit("/", 1)[1])

    stored = server.api("GET", f"/api/sessions/{session_id}", "therapist").json()
    assert stored["patient_id"] == patient_id and stored["kind"] == "live"
    assert stored["rep_count"] == 2 and stored["source"] == "websocket"
    assert [(p["rating"], p["location"]) for p in stored["pain"]] == [(3, "lower back")]


def test_programme_in_the_browser_moves_to_the_next_exercise(live_site, patient_page):
    server, _, _ = live_site
    page = patient_page
    programme = server.api("GET", "/api/me/programme", "ada").json()
    first, second = programme["items"][0], programme["items"][1]
    page.get_by_role("link", name="Start the whole programme").click()
    page.wait_for_url(re.compile(r"/exercise\?programme="))
    page.get_by_role("button", name="Start").click()
    title = page.locator("#exercise-title")
    expect(title).to_have_text(first["name"], timeout=60_000)  # after the on-device model has loaded
    page.locator("#conn").filter(has_text="frames per second").wait_for(timeout=30_000)
    page.get_by_role("button", name="Next exercise").click()
    expect(title).to_have_text(second["name"])
    assert title.inner_text() == second["name"]
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator("#summary").wait_for(timeout=30_000)
    session_id = int(page.locator("#summary-link").get_attribute("href").rsplit("/", 1)[1])
    stored = server.api("GET", f"/api/sessions/{session_id}", "ada").json()
    assert [s["exercise"] for s in stored["sets"]][:2] == [first["exercise"], second["exercise"]]
    page.get_by_role("link", name="See the session").click()
    sets = page.locator("#sets-table tbody tr")
    sets.first.wait_for()
    assert sets.count() == len(stored["sets"])
    assert sets.first.locator("td").first.inner_text() == first["name"]
    screenshot(page, "patient-programme-session")


def test_hold_ring_follows_a_real_plank(live_site, shared_data, tmp_path):
    """mrpose/plank.mp4 holds a forearm plank from about 13 s (side view until 19 s)."""
    server, running_chromium, _ = live_site
    y4m = tmp_path / "plank.y4m"
    assert write_y4m(shared_data / "videos" / "mrpose" / "plank.mp4", y4m, 10.0, 19.0, size=(640, 360)) > 120
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                   f"--use-file-for-fake-video-capture={y4m}"]
    with browser(fake_camera, running_chromium.browser_type) as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        errors = page_errors(page)
        log_in(page, server, "ada")
        page.wait_for_url(re.compile(r"/patient$"))
        page.goto(f"{server.url}/exercise?exercise=plank")
        page.get_by_role("button", name="Start").click()
        page.locator("#hold-box").wait_for(timeout=60_000)
        held = page.locator("#hold-text")
        wait_until(lambda: float(held.inner_text().split("/")[0].rstrip(" s") or 0) >= 3, 60, message="a 3 s hold")
        dash = page.locator("#hold-ring").get_attribute("stroke-dasharray")
        assert float(dash.split()[0]) > 5  # the ring fills as the hold goes on (3 s of 30 s = 10%)
        assert page.locator("#rep-unit").inner_text() in ("hold", "holds")
        screenshot(page, "patient-exercise-hold", full_page=False)
        page.get_by_role("button", name="Stop", exact=True).click()
        page.locator("#summary").wait_for(timeout=30_000)
        assert not errors, errors
