"""The printable session report (server-side PDF) from session details shaped like the API's."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from server.web.report_pdf import _text_lines, session_pdf


def _detail(**overrides) -> dict:
    t = [round(0.1 * i, 1) for i in range(100)]
    d = {
        "id": 3, "title": "squat", "kind": "upload", "status": "completed", "model": "full", "duration_s": 10.0,
        "started_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC), "programme": None, "notices": [],
        "sets": [{"exercise": "squat", "target_reps": 10}],
        "reps": [{"exercise": "squat", "index": 1, "start_s": 2.0, "end_s": 4.5, "score": 91.0, "faults": []},
                 {"exercise": "squat", "index": 2, "start_s": 6.0, "end_s": 8.4, "score": 64.0,
                  "faults": ["knees_in"]}],
        "holds": [], "warnings": [{"t_s": 7.0, "message": "push your knees out"}],
        "pain": [{"t_s": 9.0, "rating": 4, "location": "lower back", "note": "sharp"}],
        "notes": [{"text": "Knees cave in on the second rep. " * 6, "created_at": datetime(2026, 11, 21, tzinfo=UTC)}],
        "series": {"squat": {"t": t, "knee": [170 - 60 * abs(math.sin(x / 3)) for x in t],
                             "target_band": {"knee": [110, 150]}}},
    }
    d.update(overrides)
    return d


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_report_has_summary_reps_warnings_pain_notes():
    lines = [text for _, text in _text_lines(_detail(), "Ada Lovelace")]
    text = "\n".join(lines)
    assert "Patient: Ada Lovelace" in text
    assert "Repetitions: 2 (target 10)" in text
    assert "Average score: 78/100" in text
    assert "Knees in" in text and "good form" in text
    assert "push your knees out" in text
    assert "4/10  lower back  sharp" in text
    assert "2026-11-21: Knees cave in" in text


def test_pdf_has_a_text_page_and_a_chart_page():
    pdf = session_pdf(_detail(), "Ada Lovelace")
    assert pdf.startswith(b"%PDF-")
    assert _pages(pdf) == 2


def test_programme_session_with_open_sided_band_and_gaps():
    t = [0.0, 0.1, 0.2, 0.3]
    series = {
        "knee_to_chest": {"t": t, "hip": [170.0, None, 120.0, 118.0], "target_band": {"hip": [None, 125]}},
        "heel_slide": {"t": t, "knee": [None, None, None, None], "target_band": {}},  # nothing seen: no chart
    }
    pdf = session_pdf(_detail(title="initial", programme="initial", series=series, reps=[]), "")
    assert _pages(pdf) == 2


def test_long_sessions_continue_on_more_pages():
    reps = [{"exercise": "squat", "index": i, "start_s": i, "end_s": i + 0.8, "score": 80.0, "faults": []}
            for i in range(1, 121)]
    pdf = session_pdf(_detail(reps=reps, series=None), "")
    assert _pages(pdf) >= 3  # 120 rep lines do not fit on one page; no chart page without a series
