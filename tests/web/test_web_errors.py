"""A browser that opens a page that does not exist gets a small HTML page, API clients keep JSON problems."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, login, make_settings

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def client(tmp_path):
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        client.cookies.set("formcheck_token", login(client, "thera")["Authorization"].split()[1])
        yield client


@pytest.mark.parametrize("path", ["/nonexistent", "/sessions/abc", "/therapist/patients/<script>"])
def test_a_missing_page_is_html_for_a_browser(client, path):
    r = client.get(path, headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text and 'href="/"' in r.text
    assert "<script>" not in r.text and "Input should be" not in r.text


def test_api_clients_still_get_json_problems(client):
    r = client.get("/api/sessions/abc", headers=BROWSER)
    assert r.status_code == 422 and r.json()["title"] == "Invalid request"
    r = client.get("/nonexistent")
    assert r.status_code == 404
    assert r.json() == {"title": "Not Found", "detail": "Nothing at /nonexistent.", "status": 404}


def test_a_missing_session_report_is_html_for_a_browser(client):
    r = client.get("/sessions/999/report.pdf", headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "No such session." in r.text
    assert client.get("/api/sessions/999", headers=BROWSER).json()["detail"] == "No such session."
