"""Auth: argon2 hashes, tokens that expire, header or cookie, wrong password, problem JSON."""

from __future__ import annotations

import stat

import pytest
from apiutil import PASSWORD, add_user, api_client, login, make_settings
from sqlalchemy import select

from formcheck.storage.database import User
from server.core.auth import COOKIE_NAME, create_token
from server.core.settings import Settings


@pytest.fixture
def client(tmp_path):
    with api_client(make_settings(tmp_path)) as c:
        add_user(c, "thera")
        yield c


def test_login_returns_expiring_bearer_token_and_me(client):
    r = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "therapist" and body["expires_in"] > 0
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "thera"


def test_password_is_stored_as_argon2_hash(client):
    with client.app.state.store.session() as db:
        user = db.scalars(select(User).where(User.username == "thera")).one()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_the_default_parameters_are_rfc_9106s_and_a_login_brings_older_hashes_to_them(client, monkeypatch):
    """The suite hashes with the cheapest parameters (tests/conftest.py); a server keeps RFC 9106's second
    recommendation unless told otherwise, and a login under it redoes a hash made with other parameters."""
    monkeypatch.delenv("FORMCHECK_PASSWORD_HASH")
    assert Settings().password_hash == "rfc9106-low-memory"

    def stored() -> str:
        with client.app.state.store.session() as db:
            return db.scalars(select(User.password_hash).where(User.username == "thera")).one()

    cheap = stored()
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # made by the fixture, under the suite's setting
    login(client, "thera")
    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    login(client, "thera")  # and the new hash verifies


@pytest.mark.parametrize("username,password", [("thera", "wrong password"), ("nobody", PASSWORD)])
def test_wrong_password_or_unknown_user_is_401_problem(client, username, password):
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json() == {"title": "Login failed", "detail": "Wrong username or password.", "status": 401}


def test_expired_token_is_refused_with_a_clear_message(client):
    user_id = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD}).json()["user_id"]
    expired = create_token(user_id, "therapist", client.app.state.settings.jwt_secret, minutes=-1)
    client.cookies.clear()
    r = client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_token_signed_with_another_key_is_refused(client):
    forged = create_token(1, "therapist", "some-other-secret-key-that-is-long-enough", minutes=10)
    client.cookies.clear()
    r = client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["title"] == "Invalid token"


def test_cookie_login_and_logout(client):
    r = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD})
    assert COOKIE_NAME in r.cookies and "httponly" in r.headers["set-cookie"].lower()
    assert client.get("/api/me").status_code == 200  # the cookie alone authenticates
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_no_token_is_401_problem(client):
    client.cookies.clear()
    r = client.get("/api/patients")
    assert r.status_code == 401 and r.json()["status"] == 401 and r.json()["detail"]


def test_secret_is_generated_once_and_private(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    secret = settings.jwt_secret
    path = tmp_path / "d" / "secret_key"
    assert len(secret) >= 40 and path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "d").jwt_secret == secret


def test_patient_cannot_use_therapist_endpoints(client):
    headers = login(client, "thera")
    r = client.post("/api/patients", json={"username": "pat1", "password": PASSWORD}, headers=headers)
    assert r.status_code == 201
    patient = login(client, "pat1")
    r = client.post("/api/patients", json={"username": "pat2", "password": PASSWORD}, headers=patient)
    assert r.status_code == 403 and r.json()["title"] == "Forbidden"


def test_validation_errors_are_problem_json(client):
    headers = login(client, "thera")
    r = client.post("/api/patients", json={"username": "x", "password": "short"}, headers=headers)
    assert r.status_code == 422
    body = r.json()
    assert body["title"] == "Invalid request" and "username" in body["detail"] and "password" in body["detail"]


def test_unknown_path_is_problem_json(client):
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404 and r.json()["title"] == "Not Found"


def test_users_add_cli_creates_first_therapist(tmp_path):
    from typer.testing import CliRunner

    from formcheck.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["users", "add", "first", "--password-stdin", "--db", url], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(app, ["users", "add", "first", "--password-stdin", "--db", url], input=PASSWORD + "\n")
    assert again.exit_code != 0 and "taken" in again.output
    short = CliRunner().invoke(app, ["users", "add", "second", "--password-stdin", "--db", url], input="abc\n")
    assert short.exit_code != 0 and "at least 8" in short.output


def test_users_passwd_and_list_cli(tmp_path):
    from typer.testing import CliRunner

    from formcheck.cli import app
    from formcheck.storage.database import Store, User
    from server.core.auth import verify_password

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    assert "no accounts yet" in run(app, ["users", "list", "--db", url]).output
    run(app, ["users", "add", "ther1", "--password-stdin", "--db", url], input=PASSWORD + "\n")
    run(app, ["users", "add", "pat1", "--role", "patient", "--therapist", "ther1", "--password-stdin", "--db", url],
        input=PASSWORD + "\n")
    listing = run(app, ["users", "list", "--db", url]).output.splitlines()
    assert listing[0].split() == ["USERNAME", "ROLE", "LEVEL", "THERAPIST", "NAME"]
    assert listing[1].split()[:2] == ["ther1", "therapist"] and listing[2].split()[:4] == [
        "pat1", "patient", "initial", "ther1"]
    changed = run(app, ["users", "passwd", "pat1", "--password-stdin", "--db", url], input="a-new-password\n")
    assert changed.exit_code == 0, changed.output
    store = Store(url)
    with store.session() as db:
        user = db.query(User).filter_by(username="pat1").one()
        assert verify_password(user.password_hash, "a-new-password")
    store.close()
    missing = run(app, ["users", "passwd", "nobody", "--password-stdin", "--db", url], input="a-new-password\n")
    assert missing.exit_code == 2 and "no account 'nobody'" in missing.output
    short = run(app, ["users", "passwd", "pat1", "--password-stdin", "--db", url], input="abc\n")
    assert short.exit_code == 2 and "at least 8" in short.output


def test_openapi_docs_are_served_without_a_cdn(client):
    html = client.get("/docs").text
    assert "/docs-static/swagger-ui-bundle.js" in html and "cdn" not in html
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/auth/token", "/api/uploads", "/api/jobs/{job_id}", "/api/sessions/{session_id}"} <= set(paths)


def test_repeated_wrong_passwords_are_slowed_down(client):
    for _ in range(5):
        assert client.post("/api/auth/token", data={"username": "thera", "password": "guess"}).status_code == 401
    r = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many" in r.json()["detail"]
    add_user(client, "other")
    assert client.post("/api/auth/token", data={"username": "other", "password": PASSWORD}).status_code == 200


def test_the_server_warns_when_it_hashes_with_the_test_suites_parameters(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="formcheck.server"), api_client(make_settings(tmp_path)):
        pass
    assert "cheapest-for-tests" in caplog.text and "only for test suites" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="formcheck.server"), \
            api_client(make_settings(tmp_path, password_hash="rfc9106-low-memory")):
        pass
    assert "cheapest-for-tests" not in caplog.text
