"""Password guessing: the login throttle is atomic (parallel guesses cannot slip under the limit), bounded in
memory (hashed keys, a cap on keys, huge usernames refused before they are counted), per username and address,
per username and per address, and shared across processes through Redis."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from apiutil import PASSWORD, add_user, api_client, make_settings
from securityutil import post_chunks

from server.api.errors import Problem
from server.core.throttle import LoginThrottle, MemoryCounter, RedisCounter

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def api(tmp_path, monkeypatch):
    """A client, and a list that records each password check the login route makes."""
    checked: list[str] = []
    from server.api.routes import auth

    real = auth.verify_password

    def counting(password_hash, password):
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    with api_client(make_settings(tmp_path)) as client:
        add_user(client, "thera")
        yield client, checked


def parallel(count: int, call) -> list:
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_20_parallel_wrong_passwords_check_at_most_5(api):
    client, checked = api
    statuses = parallel(20, lambda i: client.post("/api/auth/token",
                                                  data={"username": "thera", "password": f"guess {i}"}).status_code)
    assert statuses.count(401) <= 5 and statuses.count(429) >= 15, statuses
    assert len(checked) <= 5, f"{len(checked)} passwords checked"
    r = client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # locked out for the window, right one too


def test_a_good_login_clears_the_username_count(api):
    client, _ = api
    for _ in range(4):
        assert client.post("/api/auth/token", data={"username": "thera", "password": "nope"}).status_code == 401
    assert client.post("/api/auth/token", data={"username": "thera", "password": PASSWORD}).status_code == 200
    for _ in range(5):
        assert client.post("/api/auth/token", data={"username": "thera", "password": "nope"}).status_code == 401


def test_megabyte_usernames_are_refused_before_they_are_counted(api):
    client, checked = api
    counter = client.app.state.login_throttle.counter
    for size in (100, 10_000):
        r = client.post("/api/auth/token", data={"username": "u" * size, "password": "x"})
        assert r.status_code == 422 and "username" in r.json()["detail"]
    for _ in range(150):  # 1 MB each: refused while the body arrives, from its length
        sent = post_chunks(client, "/api/auth/token", {"content-type": "application/x-www-form-urlencoded"},
                           iter([b"username=" + b"u" * (1024 * 1024), b"&password=x"]))
        assert sent.status == 413
    assert len(counter) == 0 and checked == [], "a refused login was counted or checked"


def test_the_memory_counter_is_capped_and_its_keys_are_fixed_size():
    throttle = LoginThrottle(MemoryCounter(max_keys=100), max_failures=5)
    for i in range(1000):
        throttle.attempt(f"user{i}" * 1000, f"10.0.{i // 256}.{i % 256}")
    counter = throttle.counter
    assert len(counter) <= 100
    assert {len(key) for key in counter._windows} == {32}


def test_each_limit_counts_separately():
    throttle = LoginThrottle(MemoryCounter(), max_failures=3, per_user=5, per_address=7)
    for _ in range(3):
        throttle.attempt("alice", "10.0.0.1")
    with pytest.raises(Problem):
        throttle.attempt("alice", "10.0.0.1")  # the pair
    throttle.attempt("alice", "10.0.0.5")  # alice from elsewhere: her 5th attempt (per_user 5)
    with pytest.raises(Problem):
        throttle.attempt("alice", "10.0.0.9")  # the 6th, from yet another address
    for name in ("bob", "carol"):  # the address: 10.0.0.1 has 4 attempts so far
        throttle.attempt(name, "10.0.0.1")
    throttle.attempt("dave", "10.0.0.1")
    with pytest.raises(Problem):
        throttle.attempt("erin", "10.0.0.1")  # 8 attempts from one address (limit 7)


@pytest.fixture
def redis_counter():
    redis = pytest.importorskip("redis")
    prefix = f"formcheck-test:{uuid.uuid4().hex}:"
    counter = RedisCounter(REDIS_URL, prefix=prefix)
    try:
        counter.client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {type(exc).__name__}")
    yield counter
    keys = list(counter.client.scan_iter(f"{prefix}*"))
    if keys:
        counter.client.delete(*keys)


def test_the_redis_throttle_is_atomic_and_shared(redis_counter):
    throttles = [LoginThrottle(RedisCounter(REDIS_URL, prefix=redis_counter.prefix), max_failures=5)
                 for _ in range(2)]  # two API processes

    def attempt(i):
        try:
            throttles[i % 2].attempt("thera", "10.0.0.1")
            return True
        except Problem as exc:
            assert exc.status_code == 429 and int(exc.headers["Retry-After"]) > 0
            return False

    allowed = parallel(20, attempt)
    assert allowed.count(True) == 5
    throttles[0].succeeded("thera", "10.0.0.1")
    throttles[1].attempt("thera", "10.0.0.1")  # cleared for both
    ttls = [redis_counter.client.ttl(key) for key in redis_counter.client.scan_iter(f"{redis_counter.prefix}*")]
    assert ttls and all(0 < ttl <= 300 for ttl in ttls), ttls


def test_logins_fail_closed_when_redis_does_not_answer():
    pytest.importorskip("redis")
    throttle = LoginThrottle(RedisCounter("redis://127.0.0.1:1/0"), max_failures=5)  # nothing listens on port 1
    with pytest.raises(Problem) as refused:
        throttle.attempt("thera", "10.0.0.1")
    assert refused.value.status_code == 503
