"""The exercise catalog: every spec loads, ids match the data, and invalid specs get clear messages."""

import csv
import textwrap

import pytest

from formcheck.engine import ExerciseAnalyzer, SpecError, create_analyzer, list_exercises, load_spec, load_spec_file
from formcheck.engine.base import PoseOnlyAnalyzer
from formcheck.engine.spec import CATALOG_DIR, parse_spec

REQUIRED_IDS = {
    "ankle_pump", "heel_slide", "heel_raise", "abdominal_bracing", "straight_leg_raise", "wall_squat",
    "wall_squat_hold", "knee_to_chest", "hamstring_stretch", "glute_bridge", "bird_dog", "dead_bug",
    "hip_flexor_stretch", "piriformis_stretch", "plank", "side_plank", "marching", "stationary_bike", "squat",
    "lunge", "pushup", "jumping_jack", "seated_knee_extension", "side_lying_leg_raise", "clamshell", "bicep_curl",
    "keraal_hide_face", "keraal_torso_rotation", "keraal_flank_stretch", "cat_cow", "sit_to_stand", "front_raise",
    "situp",
}
STRETCHES = {"knee_to_chest", "hamstring_stretch", "hip_flexor_stretch", "piriformis_stretch"}


def test_catalog_covers_the_programme():
    assert REQUIRED_IDS <= set(list_exercises())


@pytest.mark.parametrize("exercise_id", sorted(REQUIRED_IDS))
def test_every_spec_loads_and_documents_itself(exercise_id):
    spec = load_spec(exercise_id)
    assert spec.id == exercise_id
    assert spec.doc and spec.name and spec.camera.hint and 1 <= len(spec.instructions) <= 5
    assert all(r.doc and r.message for r in spec.rules)
    if spec.kind == "hold":
        assert spec.hold_target_s > 0
    analyzer = create_analyzer(exercise_id)
    assert isinstance(analyzer, ExerciseAnalyzer) and analyzer.exercise == exercise_id


@pytest.mark.parametrize("exercise_id", sorted(STRETCHES))
def test_stretches_are_held_20_to_30_seconds(exercise_id):
    assert 20 <= load_spec(exercise_id).targets.hold_s <= 30


def test_ground_truth_exercises_are_in_the_catalog(shared_data):
    with open(shared_data / "videos" / "ground_truth.csv") as f:
        ids = {row["exercise"] for row in csv.DictReader(f)}
    assert ids <= set(list_exercises())


def test_special_ids_and_unknown_id():
    assert isinstance(create_analyzer("none"), PoseOnlyAnalyzer)
    assert create_analyzer("auto") is not None
    with pytest.raises(KeyError) as err:
        create_analyzer("sqaut")
    message = err.value.args[0]
    assert "sqaut" in message and "squat" in message and "plank" in message


MINIMAL = """
id: my_squat
name: My squat
level: other
position: standing
camera: {view: side, hint: side view}
instructions: [Squat down and stand up.]
kind: reps
signals:
  knee: {angle: [hip, knee, ankle]}
rep: {signal: knee, rest: 150, target: 110}
targets: {reps: 5}
"""


def write(tmp_path, text, name="my_squat.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_therapists_own_spec_file_works(tmp_path):
    path = write(tmp_path, MINIMAL)
    assert load_spec_file(path).id == "my_squat"
    analyzer = create_analyzer(str(path))
    assert analyzer.exercise == "my_squat" and analyzer.spec.rep.target == 110


def test_toml_spec(tmp_path):
    path = tmp_path / "hold.toml"
    path.write_text(textwrap.dedent("""
        id = "my_hold"
        name = "My hold"
        level = "other"
        position = "standing"
        instructions = ["Hold still."]
        kind = "hold"
        camera = {view = "any"}
        targets = {hold_s = 10}
        [signals.knee]
        angle = ["hip", "knee", "ankle"]
        [hold]
        conditions = [{signal = "knee", min = 150}]
    """))
    assert load_spec_file(path).kind == "hold"


@pytest.mark.parametrize(
    "change, expected",
    [
        (("rep: {signal: knee, rest: 150, target: 110}", "rep: {signal: elbow, rest: 150, target: 110}"),
         "rep uses signal 'elbow', which is not defined in 'signals' (defined: knee)"),
        (("angle: [hip, knee, ankle]", "angle: [hip, kneee, ankle]"), "unknown body point 'kneee'"),
        (("angle: [hip, knee, ankle]", "angle: [hip, knee]"), "signals.knee.angle"),
        (("kind: reps", "kind: jumps"), "kind: Input should be 'reps', 'hold' or 'rate'"),
        (("name: My squat\n", ""), "name: required field is missing"),
        (("targets: {reps: 5}", "targets: {reps: 5, repz: 3}"), "targets.repz: unknown field (check the spelling)"),
        (("rest: 150, target: 110", "rest: 150, target: 152"), "rest and target must differ"),
        (("kind: reps", "kind: hold"), "kind 'hold' needs a 'hold' section"),
        (("id: my_squat", "id: My Squat"), "id: use only lower-case letters, digits and _"),
        (("targets: {reps: 5}", "rules: [{id: r1, message: m, signal: knee, min: 140, max: 100}]\ntargets: {reps: 5}"),
         "rule 'r1' has min 140 above max 100"),
        (("target: 110}", "target: 110, tempo_s: [6, 2]}"), "tempo_s must be [shortest, longest]"),
        (("target: 110}", "target: 110, min_duration_s: 5, max_duration_s: 2}"), "min_duration_s (5) is more than"),
    ],
)
def test_invalid_specs_get_clear_messages(tmp_path, change, expected):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec_file(path)
    message = str(err.value)
    assert message.startswith("my_squat.yaml is not a valid exercise spec")
    assert expected in message
    assert "Traceback" not in message and "pydantic" not in message


def test_unreadable_files(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_spec_file(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="cannot be read as YAML"):
        load_spec_file(write(tmp_path, "id: [unclosed\n"))
    with pytest.raises(SpecError, match="must be a mapping"):
        parse_spec(["not", "a", "mapping"], "list.yaml")
    with pytest.raises(SpecError, match="is a folder; give an exercise spec file"):
        load_spec_file(tmp_path)
    binary = tmp_path / "clip.mp4"
    binary.write_bytes(b"\x00\x00\x00\x18ftypmp42\xff\xfe\xfa")
    with pytest.raises(SpecError, match="clip.mp4 is not a text file"):
        load_spec_file(binary)


def test_the_catalog_readme_example_is_a_spec_the_engine_runs(tmp_path):
    """The worked example in the catalog's README is valid as written and counts a raised leg with a hold."""
    from synthetic_poses import supine

    from formcheck.core.events import HoldCompleted, RepCompleted
    from formcheck.engine import ExerciseAnalyzer

    text = (CATALOG_DIR / "README.md").read_text()
    example = text.split("## A worked example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    path = tmp_path / "straight_leg_raise.yaml"
    path.write_text(example)
    spec = load_spec_file(path)
    assert spec.id == "straight_leg_raise" and set(spec.signals) == {"hip", "knee"} and spec.rep.hold_s == 3
    angles = [0.0] * 30 + [40 * i / 30 for i in range(30)] + [40.0] * 100 + [40 * (1 - i / 30) for i in range(30)]
    angles += [0.0] * 30
    analyzer = ExerciseAnalyzer(spec)
    events = [e for i, a in enumerate(angles) for e in analyzer.update(supine(i / 30, a, knee_deg=178))]
    events += analyzer.finish(len(angles) / 30)
    assert sum(isinstance(e, RepCompleted) for e in events) == 1
    assert sum(isinstance(e, HoldCompleted) for e in events) == 1


def test_exercises_command_lists_and_shows(tmp_path):
    from typer.testing import CliRunner

    from formcheck.cli import app

    runner = CliRunner()
    listing = runner.invoke(app, ["exercises"])
    lines = listing.stdout.splitlines()
    assert listing.exit_code == 0 and lines[0].split()[:2] == ["ID", "LEVEL"]  # a header, then one line each
    assert [line.split()[0] for line in lines[1:]] == list_exercises()
    shown = runner.invoke(app, ["exercises", "straight_leg_raise"])
    assert shown.exit_code == 0 and "keep the raised knee straight" in shown.stdout
    assert "knee at least 145" in shown.stdout and "hold 3 s" in shown.stdout
    mine = runner.invoke(app, ["exercises", str(write(tmp_path, MINIMAL))])
    assert mine.exit_code == 0 and "My squat" in mine.stdout
    bad = runner.invoke(app, ["exercises", "sqaut"])
    assert bad.exit_code == 2 and "unknown exercise 'sqaut'" in bad.output
