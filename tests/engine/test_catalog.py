"""The exercise catalog: the built-ins plus a clinic's exercise folder (FORMCHECK_EXERCISE_DIR), validated the same
way; a broken file names itself and hides only its own exercise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from synthetic_poses import reps_trace, standing
from typer.testing import CliRunner

from formcheck.cli import app
from formcheck.engine import SpecError, create_analyzer, list_exercises, load_spec
from formcheck.engine.catalog import Catalog, FolderSource, current_catalog, use_catalog
from formcheck.engine.recognition import rank_exercises
from formcheck.engine.spec import CATALOG_DIR
from formcheck.pipeline.loop import replay

BUILTIN_SQUAT = yaml.safe_load((CATALOG_DIR / "squat.yaml").read_text())


def write_spec(folder: Path, exercise_id: str, **changes) -> Path:
    """A copy of the built-in squat under another id (and any field changed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{exercise_id}.yaml"
    path.write_text(yaml.safe_dump({**BUILTIN_SQUAT, "id": exercise_id, **changes}))
    return path


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A clinic folder with one new exercise, configured through the environment as a clinic would."""
    folder = tmp_path / "clinic"
    write_spec(folder, "clinic_squat", name="Clinic squat", targets={"reps": 6, "sets": 2, "rest_s": 45})
    monkeypatch.setenv("FORMCHECK_EXERCISE_DIR", str(folder))
    use_catalog(None)
    yield folder
    use_catalog(None)


def squats(n: int) -> list:
    return [standing(i / 30, k) for i, k in enumerate(reps_trace(175, 85, n))]


def test_a_clinic_folder_adds_an_exercise_beside_the_builtins(clinic):
    ids = list_exercises()
    assert "clinic_squat" in ids and "squat" in ids and "plank" in ids
    entry = current_catalog().entry("clinic_squat")
    assert entry.source == "folder" and entry.origin == str(clinic / "clinic_squat.yaml")
    assert current_catalog().entry("squat").source == "builtin"
    assert load_spec("clinic_squat").targets.reps == 6


def test_a_clinic_exercise_is_counted_by_the_engine(clinic):
    result = replay(squats(3), create_analyzer("clinic_squat"))
    assert result.exercise == "clinic_squat" and result.rep_count == 3


def test_recognition_considers_the_clinic_exercises(clinic):
    candidates, _ = rank_exercises(squats(3))  # candidates: the whole catalog, the clinic's folder included
    scores = {c.exercise: c.score for c in candidates}
    assert "clinic_squat" in scores and scores["clinic_squat"] == pytest.approx(scores["squat"])


def test_a_clinic_file_overrides_the_builtin_with_the_same_id(clinic):
    write_spec(clinic, "squat", name="Squat (clinic)", targets={"reps": 12, "sets": 1, "rest_s": 30})
    entry = current_catalog().entry("squat")
    assert entry.source == "folder" and entry.spec.name == "Squat (clinic)" and entry.spec.targets.reps == 12


def test_a_broken_file_names_itself_and_hides_only_its_own_exercise(clinic):
    (clinic / "wobbly.yaml").write_text("id: wobbly\nname: Wobbly\nkind: reps\n")
    ids = list_exercises()
    assert "wobbly" not in ids and {"clinic_squat", "squat"} <= set(ids)
    problems = [str(p) for p in current_catalog().problems()]
    assert len(problems) == 1 and str(clinic / "wobbly.yaml") in problems[0]
    assert "required field is missing" in problems[0]
    with pytest.raises(SpecError, match="wobbly.yaml is not a valid exercise spec"):
        load_spec("wobbly")


@pytest.mark.parametrize("name, text, message", [
    ("other_id.yaml", None, "must match the file name"),
    ("auto.yaml", None, "the file name must be the exercise id"),
    ("Bad-Name.yaml", None, "the file name must be the exercise id"),
    ("tabs.yaml", "id: [unclosed", "cannot be read as YAML"),
])
def test_each_kind_of_bad_file_is_a_message(clinic, name, text, message):
    path = clinic / name
    path.write_text(text if text is not None else yaml.safe_dump({**BUILTIN_SQUAT, "id": "something_else"}))
    problems = " ".join(str(p) for p in current_catalog().problems())
    assert message in problems and name in problems


def test_an_edited_file_is_read_again(clinic):
    assert load_spec("clinic_squat").targets.reps == 6
    path = write_spec(clinic, "clinic_squat", targets={"reps": 9, "sets": 1, "rest_s": 30})
    path.touch()
    assert load_spec("clinic_squat").targets.reps == 9


def test_a_missing_folder_is_reported_not_fatal(tmp_path):
    catalog = Catalog([FolderSource(CATALOG_DIR, "builtin"), FolderSource(tmp_path / "nowhere")])
    assert "squat" in catalog.ids()
    assert "does not exist" in str(catalog.problems()[0])


def test_the_cli_lists_the_clinic_exercise_and_warns_about_a_broken_file(clinic):
    (clinic / "wobbly.yaml").write_text("name: only a name\n")
    listing = CliRunner().invoke(app, ["exercises"])
    assert listing.exit_code == 0
    assert any(line.startswith("clinic_squat ") and "Clinic squat" in line for line in listing.stdout.splitlines())
    assert "wobbly.yaml" in listing.output and "warning:" in listing.output
    shown = CliRunner().invoke(app, ["exercises", "clinic_squat"])
    assert shown.exit_code == 0 and "Clinic squat (clinic_squat)" in shown.stdout and "sets 2" in shown.stdout


@pytest.mark.parametrize("command", [["analyze", "{tmp}/x.mp4", "--no-progress"],
                                     ["live", "--source", "{tmp}/x.mp4", "--no-window"]])
def test_analyze_and_live_name_the_clinic_exercise_among_the_choices(clinic, tmp_path, monkeypatch, command):
    monkeypatch.setenv("FORMCHECK_VERBOSE", "1")  # silence_native_logs would swap the runner's stderr
    args = [a.format(tmp=tmp_path) for a in command]
    unknown = CliRunner().invoke(app, [*args, "-e", "clinc_squat", "--db", f"sqlite:///{tmp_path / 'x.db'}"]
                                 if command[0] == "live" else [*args, "-e", "clinc_squat"])
    assert unknown.exit_code == 2, unknown.output
    assert "unknown exercise 'clinc_squat'" in unknown.output and "clinic_squat" in unknown.output
