"""A clinic's own exercise, end to end with the real model on a real clip: a spec in the clinic's exercise folder
(FORMCHECK_EXERCISE_DIR) is accepted by ``formcheck analyze``, ``formcheck live`` and an upload to the server; a spec
a therapist stores in the database through the API is used by the server's analysis worker processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from formcheck.bench.server import ServerProcess, setup_accounts
from formcheck.engine.spec import CATALOG_DIR

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FORMCHECK = [sys.executable, "-m", "formcheck"]
SQUAT = yaml.safe_load((CATALOG_DIR / "squat.yaml").read_text())


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    """The clinic's folder: the built-in squat under a new id, with the clinic's own name and targets."""
    folder = tmp_path_factory.mktemp("clinic")
    spec = {**SQUAT, "id": "clinic_squat", "name": "Clinic squat", "targets": {"reps": 4, "sets": 1, "rest_s": 20}}
    (folder / "clinic_squat.yaml").write_text(yaml.safe_dump(spec))
    return folder


def formcheck(args: list[str], clinic: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FORMCHECK_EXERCISE_DIR": str(clinic), "FORMCHECK_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([*FORMCHECK, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_analyze_counts_the_clinic_exercise(clinic, tmp_path, two_squats):
    report = tmp_path / "report.json"
    run = formcheck(["analyze", str(two_squats), "-e", "clinic_squat", "--json", str(report), "--no-progress"],
                    clinic, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(report.read_text())
    assert data["exercise"] == "clinic_squat" and data["rep_count"] == 2
    assert data["recognition"]["method"] == "given" and all(r["exercise"] == "clinic_squat" for r in data["reps"])
    assert "clinic_squat" in data["series"]


def test_live_coaches_the_clinic_exercise_with_its_targets(clinic, tmp_path, two_squats):
    db = tmp_path / "live.db"
    run = formcheck(["live", "--source", str(two_squats), "-e", "clinic_squat", "--intro", "0", "--no-window", "--mute",
                     "--db", f"sqlite:///{db}"], clinic, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    con = sqlite3.connect(db)
    sets = con.execute("select exercise, target_reps from exercise_sets").fetchall()
    reps = con.execute("select exercise from reps").fetchall()
    con.close()
    assert sets == [("clinic_squat", 4)]  # the clinic's target, not the built-in squat's
    assert reps == [("clinic_squat",), ("clinic_squat",)]


def test_the_server_analyses_folder_and_database_specs(clinic, tmp_path, two_squats):
    with ServerProcess(tmp_path / "server", workers=1, env={"FORMCHECK_EXERCISE_DIR": str(clinic)}) as server:
        therapist, patient, _ = setup_accounts(server)
        listing = {e["id"]: e["source"] for e in patient.get("/api/exercises").json()}
        assert listing["clinic_squat"] == "folder"
        stored = therapist.http.put("/api/exercises/db_squat", headers=therapist.headers,
                                    json={**SQUAT, "id": "db_squat", "name": "Database squat"})
        assert stored.status_code == 200, stored.text
        for exercise, name in (("clinic_squat", "Clinic squat"), ("db_squat", "Database squat")):
            accepted = patient.upload(two_squats, exercise)
            job = patient.wait_job(accepted["job_id"])
            assert job["status"] == "done", job  # run in a worker process, which sees the same catalog
            session = therapist.get(f"/api/sessions/{accepted['session_id']}").json()
            assert session["rep_count"] == 2 and session["sets"][0]["exercise"] == exercise
            assert session["title"] == name
