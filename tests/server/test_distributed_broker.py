"""The broker restarted mid-run: a private ``redis-server`` (append-only file, on a free port; never the machine's
shared Redis) is killed with SIGKILL while one job runs and others wait in its queue, then started again. The
queued jobs survive and are analysed once each; an upload made while the broker is down is accepted, its job
failed with a clear retryable message (nothing silently lost) and analysed once retried."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from distutil import cut_clip, postgres_schema, redis_server_binary

from formcheck.bench.jobs import (
    ApiProcesses,
    RedisProcess,
    WorkerProcess,
    distributed_env,
    start_together,
    stop_together,
)
from formcheck.bench.server import setup_accounts

pytestmark = pytest.mark.slow


def test_queued_jobs_survive_a_broker_restart_and_an_upload_during_it_is_retryable(tmp_path):
    redis_server_binary()
    clip = cut_clip(tmp_path / "one_squat.mp4", 7.5, 5.0)
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_schema())
        redis = stack.enter_context(RedisProcess(tmp_path / "redis"))
        env = distributed_env(tmp_path / "node", database_url, redis.url, redis.url, FORMCHECK_MODEL="lite",
                              FORMCHECK_JOB_VISIBILITY_TIMEOUT_S="6", FORMCHECK_JOB_LEASE_S="4")
        api, worker = ApiProcesses(tmp_path / "node", env, processes=1), WorkerProcess(tmp_path / "node", env)
        stack.callback(stop_together, api, worker)
        start_together(api, worker)
        _, patient, _ = setup_accounts(api)

        accepted = [patient.upload(clip, "squat") for _ in range(3)]
        patient.wait_job(accepted[0]["job_id"], timeout=120, until=lambda j: j["status"] != "queued")
        redis.kill()  # one job running, two in the broker's queue

        during = patient.upload(clip, "squat")  # the API still answers; the job cannot be queued
        job = patient.get(f"/api/jobs/{during['job_id']}").json()
        assert job["status"] == "failed" and "retry" in job["error"] and "broker" in job["error"], job

        redis.start()  # same port, same append-only file
        for a in accepted:
            job = patient.wait_job(a["job_id"], timeout=180)
            assert job["status"] == "done" and job["attempts"] == 1, job
        assert patient.post(f"/api/jobs/{during['job_id']}/retry").status_code == 202
        assert patient.wait_job(during["job_id"], timeout=120)["status"] == "done"
        for a in (*accepted, during):
            detail = patient.get(f"/api/sessions/{a['session_id']}").json()
            assert detail["status"] == "completed" and detail["rep_count"] == len(detail["reps"]) == 1
