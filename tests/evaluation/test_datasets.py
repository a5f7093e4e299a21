"""Dataset loaders on the real files of ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.evaluation.datasets import (
    DatasetError,
    keraal_items,
    keraal_label,
    repcount_items,
    ui_prmd_absolute,
    ui_prmd_items,
)
from formcheck.pose.landmarks import L


def test_keraal_labels_from_file_names():
    assert keraal_label("Correct3.avi").correct
    label = keraal_label("Error1Bodypart2_4.json")
    assert (label.correct, label.side, label.error) == (False, "right", 1)
    assert keraal_label("VideoColor_Error1Bodypart1_0.avi").side == "left"
    assert keraal_label("Error1Bodypart3_1").side == "both"
    with pytest.raises(DatasetError, match="KERAAL label"):
        keraal_label("Warmup.avi")


def test_ui_prmd_chain_rotates_offsets_down_the_hierarchy():
    """With zero angles every joint is its parent plus its offset; a 90 degree turn of the waist about the
    vertical axis turns the whole body (spine, legs) with it."""
    pos = np.zeros((2, 22, 3))
    pos[:, 0] = (0, 100, -200)
    pos[:, 1] = (0, 20, 0)  # spine above the waist
    pos[:, 14] = (10, 0, 0)  # left hip to the side
    pos[:, 15] = (0, -40, 0)  # left knee below the hip
    ang = np.zeros((2, 22, 3))
    ang[1, 0] = (0, 90, 0)  # turn the waist about y
    out = ui_prmd_absolute(pos, ang)
    np.testing.assert_allclose(out[0, 1], (0, 120, -200))
    np.testing.assert_allclose(out[0, 15], (10, 60, -200))
    np.testing.assert_allclose(out[1, 14], (0, 100, -210), atol=1e-9)  # hip turned from +x to -z
    np.testing.assert_allclose(out[1, 15], (0, 60, -210), atol=1e-9)


def test_ui_prmd_deep_squat_is_a_person_squatting(shared_data):
    items = ui_prmd_items(shared_data / "ui_prmd", movements=(1,))
    assert len(items) >= 100 and {i.correct for i in items} == {True, False}
    stream = next(i for i in items if i.correct).stream()
    w = stream.world
    assert np.isfinite(w[:, [L.LEFT_KNEE, L.RIGHT_SHOULDER, L.NOSE]]).all()
    # standing at the start: head above the hips, feet below them (y down), left shoulder on image right
    assert w[0, L.NOSE, 1] < -0.4 and w[0, L.LEFT_ANKLE, 1] > 0.6
    assert w[0, L.LEFT_SHOULDER, 0] > w[0, L.RIGHT_SHOULDER, 0]
    # the knees bend a lot at the bottom of a deep squat, and straighten again
    v1 = w[:, L.LEFT_HIP] - w[:, L.LEFT_KNEE]
    v2 = w[:, L.LEFT_ANKLE] - w[:, L.LEFT_KNEE]
    knee = np.degrees(np.arccos((v1 * v2).sum(1) / np.linalg.norm(v1, axis=1) / np.linalg.norm(v2, axis=1)))
    assert knee[0] > 150 and knee.min() < 90 and knee[-1] > 140


def test_keraal_skeletons_are_mirrored_back_to_the_video(shared_data):
    items = keraal_items(shared_data / "keraal_blazepose")
    assert len(items) >= 50
    assert {i.exercise for i in items} == {"keraal_hide_face", "keraal_torso_rotation", "keraal_flank_stretch"}
    item = next(i for i in items if i.path.name == "Correct0.json" and i.exercise == "keraal_hide_face")
    lms = item.stream().landmarks
    assert lms.shape[1:] == (33, 5)
    # the person faces the camera: their left shoulder is on the image's right, as on the video
    assert np.nanmedian(lms[:, L.LEFT_SHOULDER, 0] - lms[:, L.RIGHT_SHOULDER, 0]) > 0
    videos = keraal_items(shared_data / "videos" / "keraal", suffixes=(".avi",))
    assert len(videos) >= 10 and all(v.path.suffix == ".avi" for v in videos)


def test_repcount_annotations_and_poses(shared_data):
    items = repcount_items(shared_data / "repcount_pose")
    assert {i.cls for i in items} == {"squat", "situp", "push_up", "front_raise", "jump_jack"}
    assert any(i.kind == "squant" for i in items)  # misspelled variants are included
    for item in items[:5]:
        assert len(item.bounds) == item.count
        stream = item.stream()
        assert all(end < len(stream) for _, end in item.bounds)
    everything = repcount_items(shared_data / "repcount_pose", classes=None)
    assert len(everything) > len(items)


def test_missing_folders_give_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="correct/ and incorrect/"):
        ui_prmd_items(tmp_path)
    with pytest.raises(DatasetError, match="annotation"):
        repcount_items(tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        keraal_items(tmp_path / "nope")
