"""A normal package: the wheel built from this clone, installed into a clean virtualenv (dependencies from PyPI at
the pinned versions; pip's cache makes later runs quick), builds its pose model into the user's data folder and
analyses the sample, outside the source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], env: dict | None = None, cwd: Path | None = None, timeout: int = 900):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_wheel_installs_into_a_clean_venv_and_analyses_the_sample(tmp_path, sample_squat):
    if shutil.which("npm") is None:
        pytest.skip("npm not installed (needed to build the pose model)")
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)])
    wheel = next(wheels.glob("formcheck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "formcheck/pose/checksums/SHA256SUMS" in names and "formcheck/pose/checksums/inner_sha256.json" in names
    assert not any(n.startswith("models/") for n in names)  # no top-level folder that no package owns

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # --no-compile: the same install without byte-compiling every dependency up front (a third of its time here)
    _run([str(py), "-m", "pip", "install", "-q", "--no-compile", "-c", str(REPO / "constraints.txt"), str(wheel)])

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMCHECK_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), PATH=f"{env_dir / 'bin'}:{env['PATH']}")
    env.pop("PYTHONPATH", None)
    work = tmp_path / "work"  # not the clone: the installed package must be the one imported
    work.mkdir()
    formcheck = str(env_dir / "bin" / "formcheck")
    _run([formcheck, "models", "build", "lite"], env=env, cwd=work)
    assert (home / "data" / "formcheck" / "models" / "pose_landmarker_lite.task").is_file()
    check = subprocess.run([formcheck, "models", "check"], capture_output=True, text=True, env=env, cwd=work)
    assert check.returncode == 1 and "ok " in check.stdout and "heavy.task is missing" in check.stdout
    _run([formcheck, "analyze", str(sample_squat), "--exercise", "squat", "--model", "lite", "--json", "r.json",
          "--no-progress"], env=env, cwd=work)
    report = json.loads((work / "r.json").read_text())
    assert report["rep_count"] == 2 and report["frames"] == 614
    where = _run([str(py), "-c", "import formcheck; print(formcheck.__file__)"], env=env, cwd=work).stdout
    assert str(env_dir) in where
