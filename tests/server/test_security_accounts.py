"""Accounts: tokens end at logout and at a new password; new passwords follow the policy (a reason when not)."""

from __future__ import annotations

import pytest
from apiutil import PASSWORD, add_user, api_client, login, make_settings
from typer.testing import CliRunner

from server.core.auth import password_problem


@pytest.fixture
def client(tmp_path):
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        yield client


def test_a_token_ends_at_logout_on_every_device(client):
    phone, laptop = login(client, "thera"), login(client, "thera")
    assert client.get("/api/me", headers=phone).status_code == 200
    assert client.post("/api/auth/logout", headers=phone).status_code == 204
    for headers in (phone, laptop):
        r = client.get("/api/me", headers=headers)
        assert r.status_code == 401 and r.json()["title"] == "Token revoked"
    assert client.get("/api/me", headers=login(client, "thera")).status_code == 200  # a new login works


def test_the_web_logout_ends_the_cookie_token(client):
    r = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD})
    token = r.json()["access_token"]
    assert client.get("/api/me").status_code == 200  # the cookie
    assert client.post("/logout", follow_redirects=False).status_code == 303
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_new_password_from_the_command_line_ends_earlier_tokens(client, tmp_path):
    from formcheck.cli.app import app

    headers = login(client, "thera")
    settings = client.app.state.settings
    result = CliRunner().invoke(app, ["users", "passwd", "thera", "--password-stdin", "--db", settings.db_url],
                                input="a fresh long passphrase\n")
    assert result.exit_code == 0, result.output
    assert client.get("/api/me", headers=headers).status_code == 401
    assert client.get("/api/me", headers=login(client, "thera", "a fresh long passphrase")).status_code == 200


@pytest.mark.parametrize(("password", "reason"), [
    ("12345678", "too easy to guess"),
    ("password1", "too easy to guess"),
    ("        ", "only spaces"),
    ("newpatient", "user name"),
    ("newpatient2026!", "user name"),
    ("short", "at least 8"),
    ("x" * 201, "at most 200"),
])
def test_weak_passwords_are_refused_with_a_reason(client, password, reason):
    headers = login(client, "thera")
    r = client.post("/api/patients", headers=headers, json={"username": "newpatient", "password": password})
    assert r.status_code == 422 and reason in r.json()["detail"], r.json()
    assert client.get("/api/patients", headers=headers).json() == []


def test_the_policy_applies_to_accounts_made_on_the_command_line(tmp_path):
    from formcheck.cli.app import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["users", "add", "ther9", "--password-stdin", "--db", url], input="12345678\n")
    assert result.exit_code != 0 and "too easy to guess" in result.output
    assert password_problem("correct horse battery", "ther9") is None
