"""The distributed configuration, as docs/deploy.md runs it: two API instances (one of them ``serve --processes
2``) and two ``formcheck worker`` processes, each with its own data folder (no shared disk), sharing the machine's
PostgreSQL (a fresh schema), the machine's Redis (broker and login throttle, this run's own queue and key prefix)
and S3-compatible object storage (moto in server mode: a real S3 server on a free loopback port).

Uploads made through either API are analysed by both workers into sessions identical to the embedded default's;
progress and results are read through the other API; a worker killed with SIGKILL mid-job has its job finished by
the other (one session, no duplicate repetitions, the upload kept until then, its partial video swept at its
restart); cancel reaches a running task; failed logins count across API instances."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from contextlib import ExitStack

import httpx
import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings
from distutil import S3_CREDENTIALS, cut_clip, machine_redis, moto_s3, postgres_schema

from formcheck.bench.jobs import ApiProcesses, WorkerProcess, distributed_env, start_together, stop_together
from formcheck.bench.server import TEST_PASSWORD, ApiClient, setup_accounts

pytestmark = pytest.mark.slow
RESULT_KEYS = ("exercise", "recognition", "rep_count", "reps", "holds", "warnings", "pain", "frames",
               "frames_with_person", "duration_s", "notices", "summary", "series")


class Deployment:
    def __init__(self, tmp, api_a, api_b, workers, redis_url, queue, storage_url, s3_endpoint):
        self.tmp, self.api_a, self.api_b, self.workers = tmp, api_a, api_b, workers
        self.redis_url, self.queue, self.storage_url, self.s3_endpoint = redis_url, queue, storage_url, s3_endpoint

    def objects(self, kind: str) -> list[str]:
        import boto3

        bucket, prefix = self.storage_url[len("s3://"):].split("/", 1)
        listing = boto3.client("s3", endpoint_url=self.s3_endpoint).list_objects_v2(
            Bucket=bucket, Prefix=f"{prefix}/{kind}/")
        return [o["Key"].rsplit("/", 1)[1] for o in listing.get("Contents", [])]



@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    redis_url = machine_redis()
    tmp = tmp_path_factory.mktemp("distributed")
    queue = f"fc-test-{uuid.uuid4().hex[:10]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_schema())
        endpoint, storage_url = stack.enter_context(moto_s3())
        common = {
            "FORMCHECK_JOB_QUEUE": queue, "FORMCHECK_STORAGE_URL": storage_url,
            "FORMCHECK_S3_ENDPOINT_URL": endpoint, "FORMCHECK_SECRET_KEY": secrets.token_urlsafe(48),
            "FORMCHECK_MODEL": "lite", "FORMCHECK_JOB_VISIBILITY_TIMEOUT_S": "6", "FORMCHECK_JOB_LEASE_S": "4",
            **S3_CREDENTIALS,
        }

        def env(name: str) -> dict:
            return distributed_env(tmp / name, database_url, redis_url, redis_url, **common)

        api_a = ApiProcesses(tmp / "api-a", env("api-a"), processes=2)
        api_b = ApiProcesses(tmp / "api-b", env("api-b"), processes=1)
        workers = [WorkerProcess(tmp / f"worker-{i}", env(f"worker-{i}")) for i in (1, 2)]
        stack.callback(_drop_redis_keys, redis_url, queue)  # after the processes have stopped
        stack.callback(stop_together, api_a, api_b, *workers)
        api_a.start()  # migrates the fresh schema and seeds it first
        start_together(api_b, *workers)
        yield Deployment(tmp, api_a, api_b, workers, redis_url, queue, storage_url, endpoint)


def _drop_redis_keys(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{queue}:*"):
        client.delete(key)


@pytest.fixture(scope="module")
def people(deployment):
    """The therapist and a patient; the patient logged in on each API instance (one token works on both)."""
    therapist, patient_a, patient_id = setup_accounts(deployment.api_a)
    patient_b = ApiClient(deployment.api_b.url)
    patient_b.token, patient_b.headers = patient_a.token, dict(patient_a.headers)
    return therapist, patient_a, patient_b, patient_id


@pytest.fixture(scope="module")
def rep_clip(tmp_path_factory):
    return cut_clip(tmp_path_factory.mktemp("clips") / "one_squat.mp4", 7.5, 5.0)


@pytest.fixture(scope="module")
def expected(rep_clip, tmp_path_factory):
    """The embedded default's result for the clip: in-process job runner, SQLite, the data folder."""
    settings = make_settings(tmp_path_factory.mktemp("inprocess"), model="lite")
    with api_client(settings, run_jobs=True) as client:
        add_user(client, "ther1")
        create_patient(client, login(client, "ther1"), "pat1")
        headers = login(client, "pat1")
        with rep_clip.open("rb") as f:
            accepted = client.post("/api/uploads", data={"exercise": "squat"}, files={"file": (rep_clip.name, f)},
                                   headers=headers).json()
        deadline = time.monotonic() + 120
        while client.get(f"/api/jobs/{accepted['job_id']}", headers=headers).json()["status"] in ("queued",
                                                                                                  "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        detail = client.get(f"/api/sessions/{accepted['session_id']}", headers=headers).json()
    assert detail["status"] == "completed" and detail["rep_count"] == 1
    return {k: detail[k] for k in RESULT_KEYS}


def test_uploads_through_two_api_instances_analysed_by_two_workers_match_the_default(
        deployment, people, rep_clip, expected):
    assert len(deployment.api_a.pids()) >= 2  # serve --processes 2: two API processes behind one port
    _, patient_a, patient_b, _ = people
    accepted = [(patient_a if i % 2 == 0 else patient_b).upload(rep_clip, "squat") for i in range(4)]
    seen_running = set()
    deadline = time.monotonic() + 180
    pending = {a["job_id"] for a in accepted}
    while pending:
        assert time.monotonic() < deadline, "jobs did not finish"
        for i, a in enumerate(accepted):
            job = (patient_b if i % 2 == 0 else patient_a).get(f"/api/jobs/{a['job_id']}").json()  # the other API
            if job["status"] == "running" and job["progress"] > 0:
                seen_running.add(a["job_id"])
            if job["status"] not in ("queued", "running"):
                pending.discard(a["job_id"])
        time.sleep(0.2)
    assert seen_running, "progress was never seen through the other API instance"
    for i, a in enumerate(accepted):
        job = patient_a.get(f"/api/jobs/{a['job_id']}").json()
        assert job["status"] == "done" and job["attempts"] == 1, job
        detail = (patient_b if i % 2 else patient_a).get(f"/api/sessions/{a['session_id']}").json()
        assert {k: detail[k] for k in RESULT_KEYS} == expected
    ran = {str(w.log_path) for w in deployment.workers if "job " in w.log_text() and ": done" in w.log_text()}
    assert len(ran) == 2, "both workers should have analysed uploads"
    assert deployment.objects("uploads") == []  # analysed uploads are deleted (videos not kept)
    for api in (deployment.api_a, deployment.api_b):  # nothing stayed on an API machine's disk
        assert not any((api.data_dir / "uploads").glob("*")) and not any((api.data_dir / "videos").glob("*"))


def test_a_worker_killed_mid_job_has_its_job_finished_by_the_other_once(deployment, people, two_squats):
    therapist, patient_a, patient_b, patient_id = people
    assert therapist.patch(f"/api/patients/{patient_id}", json={"keep_videos": True}).status_code == 200
    try:
        accepted = patient_a.upload(two_squats, "squat")
        job = patient_b.wait_job(accepted["job_id"], timeout=120,
                                 until=lambda j: j["progress"] >= 15 or j["status"] not in ("queued", "running"))
        assert job["status"] == "running", job
        # the worker running it writes the annotated video under a temporary name on its own disk
        holders = [w for w in deployment.workers if any((w.data_dir / "tmp").glob("*.part.mp4"))]
        assert len(holders) == 1, [w.log_path for w in holders]
        victim = holders[0]
        partial = list((victim.data_dir / "tmp").glob("*.part.mp4"))
        victim.kill()  # SIGKILL to the worker and its pool processes

        job = patient_b.wait_job(accepted["job_id"], timeout=120)
        assert job["status"] == "done" and job["attempts"] == 2, job
        survivor = next(w for w in deployment.workers if w is not victim)
        assert re.search(rf"analyse_upload\[job-{accepted['job_id']}-\w+\] succeeded", survivor.log_text())
        detail = patient_a.get(f"/api/sessions/{accepted['session_id']}").json()
        assert detail["rep_count"] == 2 and len(detail["reps"]) == 2  # stored once, no duplicate repetitions
        assert [s["exercise"] for s in detail["sets"]] == ["squat"]
        video = patient_b.get(detail["video_url"])  # streamed from the object storage
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        assert deployment.objects("uploads") != []  # kept: the patient keeps videos
        assert all(p.exists() for p in partial)  # the killed worker's partial video is still on its disk ...
        victim.start()  # ... until it starts again
        assert not any(p.exists() for p in partial)
    finally:
        therapist.patch(f"/api/patients/{patient_id}", json={"keep_videos": False})


def test_cancel_reaches_a_running_task(deployment, people, tmp_path):
    _, patient_a, patient_b, _ = people
    accepted = patient_a.upload(cut_clip(tmp_path / "long.mp4", 0, 20.0), "squat")
    patient_a.wait_job(accepted["job_id"], timeout=120, until=lambda j: j["status"] == "running" and j["progress"] > 5)
    assert patient_b.post(f"/api/jobs/{accepted['job_id']}/cancel").status_code == 200  # through the other API
    job = patient_a.wait_job(accepted["job_id"], timeout=120)
    assert job["status"] == "cancelled" and job["progress"] < 100, job  # stopped mid-run, not left to finish
    assert patient_a.get(f"/api/sessions/{accepted['session_id']}").json()["status"] == "cancelled"


def test_login_throttle_is_shared_across_api_instances(deployment, people):
    username = f"nobody{uuid.uuid4().hex[:8]}"
    a, b = httpx.Client(base_url=deployment.api_a.url), httpx.Client(base_url=deployment.api_b.url)
    codes = [(a if i % 2 else b).post("/api/auth/token", data={"username": username, "password": "wrong guess 1"})
             .status_code for i in range(5)]
    assert codes == [401] * 5
    for client in (a, b):  # the sixth try is refused wherever it lands, before any password check
        assert client.post("/api/auth/token", data={"username": username, "password": TEST_PASSWORD}).status_code \
            == 429

