"""The web pages in a real browser (Debian's headless Chromium) against the real server in a subprocess.

No pose model runs here: the session shown is written to the server's database with the store's own API.
Screenshots go to out/screenshots/.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete
from webutil import PASSWORD, REPO, browser, log_in, page_errors, require_chromium, running_server, screenshot

from formcheck.core.events import FormWarning, PainReported, RepCompleted
from formcheck.core.result import AnalysisResult
from formcheck.storage.database import ExerciseSession, SessionRecorder, Store

pytestmark = pytest.mark.browser


def _seed_session(store: Store, patient_id: int, days_ago: int, scores: list[float], pain: bool) -> int:
    """A stored wall-squat session (reps, a warning, maybe a pain report, a knee-angle series), ``days_ago``."""
    sid = store.start_session(kind="upload", title="wall_squat", patient_id=patient_id, source="seed.mp4")
    set_id = store.start_set(sid, "wall_squat", target_reps=10)
    events = [RepCompleted(t=3.6 + 4 * i, index=i + 1, start_s=1.0 + 4 * i, end_s=3.6 + 4 * i,
                           range_of_motion=50.0 + 3 * len(scores), tempo_s=2.6, score=s,
                           faults=("leaning",) if s < 80 else ())
              for i, s in enumerate(scores)]
    events.append(FormWarning(t=6.2, rule="leaning", message="keep your back against the wall"))
    if pain:
        events.append(PainReported(t=11.0, rating=3, location="lower back"))
    store.add_events(sid, "wall_squat", events, set_id)
    duration = 1.0 + 4 * len(scores)
    store.end_set(set_id, duration)
    t = [round(0.1 * i, 2) for i in range(int(10 * duration))]
    knee = []
    for x in t:
        phase = (x - 1.0) % 4
        dip = math.sin(math.pi * phase / 2.6) if x >= 1.0 and phase <= 2.6 else 0.0
        knee.append(round(160 - 45 * dip, 1))
    series = {"wall_squat": {"t": t, "knee": knee, "trunk": [8.0] * len(t), "target_band": {"knee": [120, 155]}}}
    report = {"exercise": "wall_squat", "duration_s": duration, "frames": 30 * int(duration),
              "frames_with_person": 29 * int(duration), "notices": [], "summary": {"rep_count": len(scores)}}
    store.finish_session(sid, report=report, series=series)
    with store.session() as db, db.begin():
        row = db.get(ExerciseSession, sid)
        row.started_at = row.started_at - timedelta(days=days_ago)
    return sid


def _seed(server, patient_id: int) -> int:
    """Four weeks of sessions, better each week; pain in the latest. Returns the latest session's id."""
    store = Store(f"sqlite:///{server.data_dir / 'formcheck.db'}")
    try:
        for days_ago, scores in [(21, [60.0, 66.0]), (14, [70.0, 74.0, 69.0]), (7, [82.0, 78.0, 85.0, 88.0])]:
            _seed_session(store, patient_id, days_ago, scores, pain=False)
        return _seed_session(store, patient_id, 0, [92.0, 71.0, 88.0], pain=True)
    finally:
        store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_chromium()
    with running_server(tmp_path_factory.mktemp("web")) as server:
        patient_id = server.create_patient("therapist", "ada", "Ada Lovelace")
        server.create_patient("therapist", "bob", "Bob Builder", level="intermediate")
        session_id = _seed(server, patient_id)
        yield server, patient_id, session_id


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.js_errors = page_errors(page)
    yield page
    context.close()
    assert not page.js_errors, page.js_errors


def test_login_roles_logout(site, page):
    server, _, _ = site
    page.goto(f"{server.url}/therapist")
    assert "/login?next=/therapist" in page.url  # no cookie: the login page, then back
    screenshot(page, "login")
    page.get_by_label("Username").fill("therapist")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").filter(has_text="Wrong username or password").wait_for()
    assert "/login" in page.url

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # keyboard only
    page.wait_for_url(re.compile(r"/therapist$"))
    rows = page.locator("#patients-table tbody tr")
    rows.first.wait_for()
    page.keyboard.press("Tab")  # the first stop skips the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert rows.count() == 2
    ada = rows.filter(has_text="Ada Lovelace")
    assert "Initial" in ada.inner_text()
    assert "pain reported" in ada.inner_text()  # the seeded session has a pain report
    assert "1 of" in ada.inner_text()  # adherence: one session done this week
    screenshot(page, "therapist-patients")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login\?bye=1"))
    assert page.get_by_text("You are logged out").is_visible()
    page.goto(f"{server.url}/therapist")
    page.wait_for_url(re.compile(r"/login"))

    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    page.locator("#today-items > li").first.wait_for()
    assert page.locator("#today-items > li").count() >= 1
    screenshot(page, "patient-today")
    page.get_by_role("link", name="My sessions").click()
    page.locator("#history-table tbody tr").first.wait_for()
    assert page.locator("#history-table tbody tr").count() == 4
    screenshot(page, "patient-history")
    page.goto(f"{server.url}/therapist")  # a patient asking for a therapist page goes home
    page.wait_for_url(re.compile(r"/patient$"))


def test_session_review(site, page):
    server, _, session_id = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.goto(f"{server.url}/sessions/{session_id}")
    page.locator("#rep-total").wait_for()
    assert page.locator("#rep-total").inner_text() == "3"
    assert page.locator(".timeline .tl-item").count() == 5  # 3 reps, 1 warning, 1 pain
    knee = page.locator("figure.chart").filter(has_text="Knee")
    assert knee.locator("rect.band").count() == 1
    assert knee.locator(".rep-label").all_text_contents() == ["#1", "#2", "#3"]
    table = page.locator("#events-table tbody")
    assert "keep your back against the wall" in table.inner_text()
    assert "pain 3/10" in table.inner_text()

    page.get_by_label("Add a note").fill("Good depth; watch the lean on rep 2.")
    page.get_by_role("button", name="Save note").click()
    page.locator("#notes").filter(has_text="watch the lean").wait_for()
    screenshot(page, "therapist-session")

    pdf = page.request.get(f"{server.url}/sessions/{session_id}/report.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-" and len(pdf.body()) > 5000
    csv = page.request.get(f"{server.url}/api/sessions/{session_id}/export.csv")
    assert csv.status == 200 and "keep your back against the wall" in csv.text()


def test_other_patients_session_is_hidden(site, page):
    server, _, session_id = site
    log_in(page, server, "bob")
    page.wait_for_url(re.compile(r"/patient$"))
    page.goto(f"{server.url}/sessions/{session_id}")
    page.locator("#page-error").filter(has_text="No such session").wait_for()
    assert page.request.get(f"{server.url}/sessions/{session_id}/report.pdf").status == 404


def test_patient_page_trends_and_level(site, page):
    server, patient_id, _ = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.get_by_role("link", name="Ada Lovelace").click()
    page.wait_for_url(re.compile(rf"/therapist/patients/{patient_id}$"))
    page.locator("#trends figure.chart").first.wait_for()
    titles = page.locator("#trends figcaption").all_inner_texts()
    assert "Wall squat (repetitions): repetitions done vs target" in titles
    assert "Wall squat (repetitions): average form score" in titles
    assert "Wall squat (repetitions): range of motion" in titles
    assert any(t.startswith("Pain reports") for t in titles)
    assert page.locator("#sessions-table tbody tr").count() == 4
    reps_chart = page.locator("#trends figure.chart").filter(has_text="repetitions done vs target")
    assert reps_chart.locator("circle").count() == 8  # done and target for each of 4 weeks
    screenshot(page, "therapist-patient")

    page.get_by_label("Level", exact=True).select_option("intermediate")
    page.get_by_role("button", name="Save").click()
    page.locator("#plan-msg").filter(has_text="Saved").wait_for()
    r = server.api("GET", f"/api/patients/{patient_id}", "therapist")
    assert r.json()["level"] == "intermediate"


def test_add_patient_and_accept_level_up(site, page):
    server, _, _ = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.get_by_text("Add a patient").click()
    page.get_by_label("Name shown").fill("Cy Young")
    page.get_by_label("Username").fill("cyoung")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Add patient").click()
    page.get_by_role("link", name="Cy Young").wait_for()
    cy = next(p for p in server.api("GET", "/api/patients", "therapist").json() if p["username"] == "cyoung")
    store = Store(f"sqlite:///{server.data_dir / 'formcheck.db'}")
    try:
        for days_ago in (4, 2, 0):  # three sessions that met the target of 10 reps with good form, no pain
            _seed_session(store, cy["id"], days_ago, [85.0] * 10, pain=False)
    finally:
        store.close()

    page.get_by_role("link", name="Cy Young").click()
    button = page.get_by_role("button", name="Move up to Intermediate")
    button.wait_for()
    assert "met their targets" in page.locator("#suggestion-text").inner_text()
    screenshot(page, "therapist-level-up")
    page.get_by_role("button", name="Not now").click()
    page.locator("#plan-msg").filter(has_text="Staying at Initial").wait_for()
    assert page.locator("#suggestion").is_hidden()
    page.locator("#level-note").filter(has_text="declined").wait_for()
    page.reload()  # the decline is recorded: not offered again until more good sessions
    page.locator("#level-note").filter(has_text="0 so far").wait_for()
    assert page.locator("#suggestion").is_hidden()
    store = Store(f"sqlite:///{server.data_dir / 'formcheck.db'}")
    try:
        for _ in range(3):
            _seed_session(store, cy["id"], 0, [85.0] * 10, pain=False)
    finally:
        store.close()
    page.reload()
    button.wait_for()
    button.click()
    page.locator("#plan-msg").filter(has_text="Moved to Intermediate").wait_for()
    assert page.locator("#suggestion").is_hidden()
    assert server.api("GET", f"/api/patients/{cy['id']}", "therapist").json()["level"] == "intermediate"
    assert page.get_by_label("Level", exact=True).input_value() == "intermediate"


def test_no_level_up_after_pain(site, page):
    server, _, _ = site
    patient_id = server.create_patient("therapist", "dee", "Dee Dee")
    store = Store(f"sqlite:///{server.data_dir / 'formcheck.db'}")
    try:
        for days_ago in (4, 2, 0):  # targets met with good form, but pain in the last session
            _seed_session(store, patient_id, days_ago, [85.0] * 10, pain=days_ago == 0)
    finally:
        store.close()
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.goto(f"{server.url}/therapist/patients/{patient_id}")
    page.locator("#level-note").filter(has_text="Pain was reported").wait_for()
    assert page.locator("#suggestion").is_hidden()


def test_programme_editor(site, page):
    server, _, _ = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.get_by_role("link", name="Programmes").click()
    page.locator("#programmes-table tbody tr").first.wait_for()
    screenshot(page, "programmes")
    page.get_by_role("link", name="New programme").click()
    page.get_by_label("Name").fill("Ada week 2")
    picker = page.get_by_label("Add from the catalog")
    picker.locator("option").nth(1).wait_for(state="attached")
    options = picker.locator("option").all()
    assert len(options) >= 2
    first, second = (o.get_attribute("value") for o in options[:2])
    for exercise in (first, second):
        picker.select_option(exercise)
        page.get_by_role("button", name="Add", exact=True).click()
    page.locator("#items-table tbody tr").nth(0).locator("[name=sets]").fill("3")
    page.locator("#items-table tbody tr").nth(1).get_by_role("button", name=re.compile("^Move .* up$")).click()
    screenshot(page, "programme-editor")
    page.get_by_role("button", name="Save programme").click()
    page.wait_for_url(re.compile(r"/programmes/\d+$"))
    saved = server.api("GET", page.url.replace(server.url, "/api"), "therapist").json()
    assert [i["exercise"] for i in saved["items"]] == [second, first]
    assert saved["items"][1]["sets"] == 3


def test_phone_sized_screen(site, chromium):
    server, patient_id, session_id = site
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, server, "therapist")
        page.wait_for_url(re.compile(r"/therapist$"))
        pages = [("/therapist", "#patients-table tbody tr"),
                 (f"/therapist/patients/{patient_id}", "#trends figure"),
                 (f"/sessions/{session_id}", "#rep-total")]
        for path, ready in pages:
            page.goto(server.url + path)
            page.locator(ready).first.wait_for()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
        screenshot(page, "phone-session")
        page.get_by_role("button", name="Log out").click()
        log_in(page, server, "ada")
        page.wait_for_url(re.compile(r"/patient$"))
        for path, ready in [("/patient", "#today-items > li"), ("/exercise?exercise=squat", "#how-to-text li"),
                            ("/upload", "#exercise option"), ("/history", "#history-table tbody tr")]:
            page.goto(server.url + path)
            page.locator(ready).first.wait_for(state="attached")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
            if path.startswith("/exercise"):
                assert page.get_by_role("button", name="Pain – stop").is_visible()
                screenshot(page, "phone-exercise")
    finally:
        context.close()


def test_patient_upload_of_a_file_that_is_not_a_video(site, page, tmp_path):
    server, _, _ = site
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is a shopping list, not a video\n" * 50)
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Exercise").locator("option").nth(1).wait_for(state="attached")
    assert page.locator("#patient-field").is_hidden()  # a patient uploads for themselves
    page.get_by_label("Video file").set_input_files(fake)
    page.get_by_role("button", name="Upload and analyse").click()
    alert = page.locator("#upload-error")
    alert.wait_for()
    assert "not a video" in alert.inner_text()
    assert "Traceback" not in page.content()
    screenshot(page, "upload-not-a-video")


def test_exercise_page_without_a_camera_says_so(site, page):
    server, _, _ = site
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    page.goto(f"{server.url}/exercise?exercise=squat")
    page.get_by_role("button", name="Start").click()
    alert = page.locator("#page-error")
    alert.wait_for()
    assert "camera" in alert.inner_text()
    assert page.get_by_role("button", name="Start").is_enabled()  # can try again


def test_exercise_page_with_an_unknown_exercise_says_so(site, page):
    server, _, _ = site
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    page.goto(f"{server.url}/exercise?exercise=sqaut")
    alert = page.locator("#page-error")
    alert.wait_for()
    assert 'no exercise called "sqaut"' in alert.inner_text()
    assert page.get_by_role("button", name="Start").is_disabled()


def _seed_programme_session(store: Store, patient_id: int) -> int:
    """A live programme session of two exercises, recorded as live coaching records one (sets, events as they
    happen through the recorder, then the result with one series per exercise)."""
    sid = store.start_session(kind="live", title="initial", programme="initial", patient_id=patient_id)
    recorder = SessionRecorder(store, sid)
    result = AnalysisResult(exercise="initial")
    for exercise, signal, t0 in (("squat", "knee", 0.0), ("glute_bridge", "hip", 12.0)):
        recorder.start_set(exercise, 1, 2, None, t0)
        events = [RepCompleted(t0 + 4 * i + 3, i + 1, t0 + 4 * i + 1, t0 + 4 * i + 3, 60.0, 2.0, 85.0)
                  for i in range(2)]
        recorder.record(events)
        result.add_all(events, exercise)
        t = [round(t0 + 0.1 * i, 2) for i in range(100)]
        result.series[exercise] = {"t": t, signal: [150 - 40 * math.sin(x) ** 2 for x in t],
                                   "target_band": {signal: [100, 130]}}
        recorder.end_set(t0 + 10)
    recorder.close()
    store.finish_session(sid, result=result)
    return sid


def test_a_programme_sessions_curves_of_every_exercise(site, page):
    server, patient_id, _ = site
    with store_for(server) as store:
        sid = _seed_programme_session(store, patient_id)
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.goto(f"{server.url}/sessions/{sid}")
    page.locator("#curves figure.chart").first.wait_for()
    titles = page.locator("#curves figure.chart figcaption").all_text_contents()
    assert titles == ["Squat: Knee", "Bridge: Hip"]  # catalog names: squat, glute_bridge
    for chart in page.locator("#curves figure.chart").all():  # each exercise's own reps on its curve
        assert chart.locator(".rep-label").all_text_contents() == ["#1", "#2"]
    assert page.locator("#rep-total").inner_text() == "4"
    with store_for(server) as s, s.session() as db, db.begin():  # removed again: other tests count sessions
        db.execute(delete(ExerciseSession).where(ExerciseSession.id == sid))  # its rows go by ON DELETE CASCADE


@contextmanager
def store_for(server):
    store = Store(f"sqlite:///{server.data_dir / 'formcheck.db'}")
    try:
        yield store
    finally:
        store.close()


def test_a_missing_session_or_patient_shows_only_the_message(site, page):
    server, _, _ = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    for path, message in (("/sessions/99999", "No such session."), ("/therapist/patients/99999", "No such patient.")):
        page.goto(f"{server.url}{path}")
        alert = page.locator("#page-error")
        alert.wait_for()
        assert alert.inner_text() == message
        assert not page.get_by_role("heading", name="Timeline").is_visible()
        assert not page.get_by_role("button", name="Save").is_visible()


# Contrast of every visible text element against the background it is drawn on (WCAG AA: 4.5, large text 3).
LOW_CONTRAST_JS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll("body *:not(script):not(style):not(svg *)")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || el.closest(".hud, [hidden], .visually-hidden, .skip-link")) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) < 0.5) continue;
    const fg = rgb(style.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && style.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5) && !el.closest("button:disabled, input:disabled")) {
      bad.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`);
    }
  }
  return bad;
}"""


def test_text_contrast(site, page):
    server, patient_id, session_id = site
    log_in(page, server, "therapist")
    page.wait_for_url(re.compile(r"/therapist$"))
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                  "'<p id=pale style=\\'color:#aaa\\'>pale grey text</p>')")
    assert any("pale grey text" in bad for bad in page.evaluate(LOW_CONTRAST_JS))  # the check does find problems
    pages = [("/therapist", "#patients-table tbody tr"), (f"/therapist/patients/{patient_id}", "#trends figure"),
             (f"/sessions/{session_id}", "#rep-total"), ("/programmes", "#programmes-table tbody tr")]
    for path, ready in pages:
        page.goto(server.url + path)
        page.locator(ready).first.wait_for()
        assert page.evaluate(LOW_CONTRAST_JS) == [], path
    page.get_by_role("button", name="Log out").click()
    log_in(page, server, "ada")
    page.wait_for_url(re.compile(r"/patient$"))
    for path, ready in [("/patient", "#today-items > li"), ("/exercise?exercise=squat", "#how-to-text li"),
                        ("/upload", "#exercise option")]:
        page.goto(server.url + path)
        page.locator(ready).first.wait_for(state="attached")
        assert page.evaluate(LOW_CONTRAST_JS) == [], path


def test_the_tuning_view_shows_thresholds_range_reached_and_what_was_not_counted(site, page):
    """A real landmark stream (samples/landmarks) replayed through the squat spec, stored as an upload's result:
    the page draws the spec's thresholds on the knee curve, the range the person reached and the movements that
    were not counted with why and how far short."""
    from formcheck.engine import create_analyzer
    from formcheck.io.recording import PoseStream
    from formcheck.pipeline.loop import replay

    server, patient_id, _ = site
    stream = PoseStream.load(REPO / "samples" / "landmarks" / "squat_oblique.npz")
    result = replay(stream, create_analyzer("squat"))
    totals = result.summary()["by_exercise"]["squat"]
    assert totals["calibration"]["movements"] >= 6 and "rest" in totals["thresholds"]["knee"]
    with store_for(server) as store:
        sid = store.start_session(kind="upload", title="squat", patient_id=patient_id, source="squat_oblique.npz")
        store.save_result(sid, result)
    try:
        log_in(page, server, "therapist")
        page.wait_for_url(re.compile(r"/therapist$"))
        page.goto(f"{server.url}/sessions/{sid}")
        page.locator("#rep-total").filter(has_text=str(len(result.reps))).wait_for()
        knee = page.locator("#curves figure.chart").filter(has_text="Knee").first
        knee.wait_for()
        labels = knee.locator(".threshold-label").all_text_contents()
        assert any(x.startswith("rest 150") for x in labels) and any(x.startswith("target 110") for x in labels)
        tuning = page.locator("#tuning")
        tuning.wait_for()
        lo, hi = totals["calibration"]["end_reached"]
        assert f"reached {lo}–{hi}" in tuning.inner_text()
        missed = totals.get("not_counted", [])
        assert tuning.locator("tbody tr").count() == len(missed)
        if missed:
            assert missed[0]["reason"] in tuning.inner_text()
        screenshot(page, "therapist-session-tuning")
    finally:
        with store_for(server) as s, s.session() as db, db.begin():
            db.execute(delete(ExerciseSession).where(ExerciseSession.id == sid))
