"""A therapist's review of a session made from a real clip, through the pages only: keep the patient's videos,
upload the sample's two squats on the upload page, follow the analysis, open the session, check
the repetitions, the angle curve and that clicking a repetition plays the annotated video from there."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from webutil import browser, log_in, page_errors, require_chromium, running_server, screenshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]



def test_upload_and_review_a_real_clip(tmp_path, two_squats):
    require_chromium()
    with running_server(tmp_path / "server") as server, browser() as chromium:
        patient_id = server.create_patient("therapist", "ada", "Ada Lovelace")
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors = page_errors(page)
        log_in(page, server, "therapist")
        page.wait_for_url(re.compile(r"/therapist$"))

        page.goto(f"{server.url}/therapist/patients/{patient_id}")
        page.get_by_label("Keep videos").check()
        page.get_by_role("button", name="Save", exact=True).click()
        page.locator("#plan-msg").filter(has_text="Saved").wait_for()

        page.get_by_role("link", name="Upload a video for this patient").click()
        page.wait_for_url(re.compile(r"/upload\?patient_id="))
        page.get_by_label("Exercise").select_option("squat")
        expect(page.get_by_label("Patient")).to_have_value(str(patient_id))  # filled once the patient list loads
        page.get_by_label("Video file").set_input_files(two_squats)
        page.get_by_role("button", name="Upload and analyse").click()
        page.locator("#progress-box").wait_for()
        result = page.locator("#result-text")
        result.wait_for(timeout=240_000)  # the full model over 330 frames on a shared machine
        assert result.inner_text().startswith("2 repetitions")
        screenshot(page, "upload-result")

        page.get_by_role("link", name="Open the session").click()
        page.wait_for_url(re.compile(r"/sessions/\d+$"))
        page.locator("#rep-total").wait_for()
        assert page.locator("#rep-total").inner_text() == "2"
        assert page.locator(".timeline .tl-item").filter(has=page.locator("rect")).count() == 2
        curve = page.locator("#curves figure.chart").first
        assert curve.locator("rect.band").count() == 1
        assert curve.locator(".rep-label").all_text_contents() == ["#1", "#2"]
        assert curve.locator("path[stroke]").count() >= 1

        video = page.locator("#video")
        video.wait_for()
        wait_until(lambda: video.evaluate("v => v.readyState >= 1"), 30, message="the video's metadata")
        session = server.api("GET", page.url.replace(server.url, "/api"), "therapist").json()
        second = session["reps"][1]
        page.locator(".timeline .tl-item").filter(has_text="Repetition 2").click()
        target = second["start_s"] - 0.3
        wait_until(lambda: abs(video.evaluate("v => v.currentTime") - target) < 0.2, 10,
                   message=f"the video to seek to {target:.1f} s")
        screenshot(page, "therapist-session-real")

        pdf = page.request.get(page.url + "/report.pdf")
        assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
        context.close()
        assert not errors, errors
