"""Shared fixtures: paths to the bundled sample and to ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED_DATA = Path(os.environ.get("FORMCHECK_SHARED_DATA", REPO.parent / "shared" / "data"))
SAMPLE_SQUAT = SAMPLES / "squat_side.mp4"

# Under pytest-xdist the cores are already shared by one test process each: a video is then analysed as one part
# (FORMCHECK_POSE_THREADS=1), for the tests and the servers they start. tests/pipeline/test_segments.py runs the
# parallel parts explicitly, with the real model too.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("FORMCHECK_POSE_THREADS", "1")

# Password hashes with argon2-cffi's cheapest parameters (a login with the default ones costs 0.2 s of CPU, about a
# minute of the suite): tests/server/test_api_auth.py checks the default parameters themselves.
os.environ.setdefault("FORMCHECK_PASSWORD_HASH", "cheapest-for-tests")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA} (set FORMCHECK_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_squat() -> Path:
    return SAMPLE_SQUAT


@pytest.fixture(scope="session")
def two_squats(tmp_path_factory) -> Path:
    """The sample's two squats without its first 7.5 s of standing (11 s, 330 frames): for end-to-end tests of
    plumbing (uploads, jobs, workers, kills) that need real repetitions from the real model but not the whole clip."""
    from distutil import cut_clip

    return cut_clip(tmp_path_factory.mktemp("clips") / "two_squats.mp4", 7.5, 11.0)
