"""``formcheck models check``: every bundle checked against the sums shipped in the package, in FORMCHECK_MODELS."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.pose.models import bundle_path, check_model


def test_models_check_fails_on_a_bundle_that_does_not_match(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    for variant in ("lite", "full"):
        shutil.copy(check_model(variant), folder)
    bundle_path("heavy", folder).write_bytes(b"not the heavy model")
    monkeypatch.setenv("FORMCHECK_MODELS", str(folder))
    result = CliRunner().invoke(app, ["models", "check"])
    assert result.exit_code == 1
    assert f"ok  {folder / 'pose_landmarker_lite.task'}" in result.output
    assert "pose_landmarker_heavy.task is corrupt (sha256 mismatch)" in result.output


def test_models_check_passes_when_every_bundle_matches(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    for variant in ("lite", "full", "heavy"):
        shutil.copy(check_model(variant), folder)
    monkeypatch.setenv("FORMCHECK_MODELS", str(folder))
    result = CliRunner().invoke(app, ["models", "check"])
    assert result.exit_code == 0 and result.output.count("ok  ") == 3
