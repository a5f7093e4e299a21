"""Programmes: the built-ins load, follow the progression, and bad input gives clear errors."""

from __future__ import annotations

import pytest

from formcheck.programmes import LEVELS, ProgrammeError, list_programmes, load_programme


def test_builtins_load_in_level_order():
    programmes = list_programmes()
    assert [p.name for p in programmes][:3] == list(LEVELS)
    for programme in programmes:
        assert programme.level == programme.name
        assert programme.items, programme.name


@pytest.mark.parametrize("name", LEVELS)
def test_each_programme_opens_with_held_warmup_stretches(name):
    items = load_programme(name).items
    assert items[0].warmup
    warmup = [item for item in items if item.warmup]
    assert items[: len(warmup)] == warmup, "warm-up items come first"
    for item in warmup:
        assert item.hold_s is not None and 20 <= item.hold_s <= 30
    assert any(not item.warmup for item in items)


def test_progression_contents():
    exercises = {name: {i.exercise for i in load_programme(name).items if not i.warmup} for name in LEVELS}
    assert {"ankle_pump", "heel_slide", "heel_raise", "abdominal_bracing", "straight_leg_raise", "wall_squat"} <= (
        exercises["initial"]
    )
    assert {"knee_to_chest", "hamstring_stretch", "glute_bridge"} <= exercises["intermediate"]
    assert {"hip_flexor_stretch", "piriformis_stretch", "plank", "marching"} <= exercises["advanced"]


def test_to_dict_round_trips():
    programme = load_programme("initial")
    d = programme.to_dict()
    assert d["name"] == "initial" and d["items"][0]["warmup"] is True
    assert type(programme).model_validate(d) == programme


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ProgrammeError, match="Unknown programme 'expert'.*initial"):
        load_programme("expert")


def test_load_from_path_and_invalid_files(tmp_path):
    good = tmp_path / "mine.yaml"
    good.write_text("level: initial\nitems:\n  - {exercise: ankle_pump, reps: 5}\n")
    programme = load_programme(good)
    assert programme.name == "mine" and programme.items[0].sets == 1 and programme.items[0].rest_s == 30

    no_target = tmp_path / "no_target.yaml"
    no_target.write_text("level: initial\nitems:\n  - {exercise: ankle_pump}\n")
    with pytest.raises(ProgrammeError, match="needs a target") as err:
        load_programme(no_target)
    assert "Value error" not in str(err.value)  # pydantic's wording is not for people

    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [unclosed\n")
    with pytest.raises(ProgrammeError, match="not valid YAML"):
        load_programme(broken)

    with pytest.raises(ProgrammeError, match="No programme file"):
        load_programme(tmp_path / "missing.yaml")


def test_every_programme_exercise_exists_in_the_catalog():
    engine = pytest.importorskip("formcheck.engine", reason="the exercise engine is not in the repository yet")
    if not hasattr(engine, "list_exercises"):
        pytest.skip("formcheck.engine.list_exercises does not exist yet")
    catalog = engine.list_exercises()
    ids = {e["id"] if isinstance(e, dict) else getattr(e, "id", e) for e in catalog}
    for programme in list_programmes():
        missing = {item.exercise for item in programme.items} - ids
        assert not missing, f"{programme.name} uses exercises not in the catalog: {sorted(missing)}"
