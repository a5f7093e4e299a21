"""Geometry on synthetic stick figures: angles, inclines, heights, posture, camera view, sides."""

import math

import numpy as np
import pytest
from synthetic_poses import standing, supine

from formcheck.engine.geometry import (
    BodyGeometry,
    angle_between,
    incline_from_vertical,
    is_point_name,
    landmark_indices,
)
from formcheck.pose.landmarks import L
from formcheck.pose.types import Pose


def test_angle_between():
    assert angle_between(np.array([1, 0]), np.array([0, 0]), np.array([0, 1])) == pytest.approx(90)
    assert angle_between(np.array([1, 0]), np.array([0, 0]), np.array([-1, 0])) == pytest.approx(180)
    assert math.isnan(angle_between(np.array([0, 0]), np.array([0, 0]), np.array([1, 0])))


def test_incline_from_vertical_uses_image_y_down():
    assert incline_from_vertical(np.array([0, 0]), np.array([0, -1])) == pytest.approx(0)  # b above a
    assert incline_from_vertical(np.array([0, 0]), np.array([1, 0])) == pytest.approx(90)
    assert incline_from_vertical(np.array([0, 0]), np.array([0, 1])) == pytest.approx(180)


def test_point_names():
    assert landmark_indices("knee", "left") == (L.LEFT_KNEE,)
    assert landmark_indices("other_knee", "left") == (L.RIGHT_KNEE,)
    assert landmark_indices("right_wrist", "left") == (L.RIGHT_WRIST,)
    assert landmark_indices("mid_hip", None) == (L.LEFT_HIP, L.RIGHT_HIP)
    assert is_point_name("nose") and is_point_name("other_ankle") and not is_point_name("kneee")


@pytest.mark.parametrize("knee", [175, 130, 90, 60])
def test_image_and_world_knee_angles_match_the_figure(knee):
    geo = BodyGeometry(standing(0, knee))
    assert geo.angle("hip", "knee", "ankle", "left") == pytest.approx(knee, abs=0.5)
    assert geo.angle("hip", "knee", "ankle", "right", "world") == pytest.approx(knee, abs=0.5)


def test_angles_use_pixels_not_normalised_coordinates():
    """A right angle in a wide image is still a right angle (normalised x and y have different units)."""
    lms = np.zeros((33, 5), np.float32)
    lms[:, 3:] = 1
    lms[L.LEFT_HIP, :2] = (0.5, 0.5)
    lms[L.LEFT_KNEE, :2] = (0.5, 0.75)      # 270 px below in a 1920x1080 image
    lms[L.LEFT_ANKLE, :2] = (0.5 + 270 / 1920, 0.75)  # 270 px to the right
    geo = BodyGeometry(Pose(lms, np.zeros((33, 3), np.float32), 0.0, (1920, 1080)))
    assert geo.angle("hip", "knee", "ankle", "left") == pytest.approx(90, abs=0.1)


def test_posture_and_view():
    upright, lying = BodyGeometry(standing(0)), BodyGeometry(supine(0))
    assert upright.posture == "upright" and lying.posture == "lying"
    assert upright.torso_incline == pytest.approx(0, abs=1) and lying.torso_incline == pytest.approx(90, abs=1)
    assert upright.view == "side"
    assert BodyGeometry(standing(0, depth=160)).view == "front"


def test_heights_are_in_torso_lengths_and_scale_free():
    geo = BodyGeometry(standing(0))
    assert geo.scale == pytest.approx(250, rel=0.01)
    assert geo.height("hip", "shoulder", "left") == pytest.approx(1.0, abs=0.01)
    assert geo.height("shoulder", "wrist", "left") == pytest.approx(-300 / 250, abs=0.02)


def test_leg_raise_angle_lying():
    geo = BodyGeometry(supine(0, leg_raise_deg=40))
    assert geo.angle("shoulder", "hip", "knee", "left") == pytest.approx(140, abs=0.5)
    assert geo.angle("shoulder", "hip", "knee", "right") == pytest.approx(180, abs=0.5)


def test_near_side_and_visibility():
    geo = BodyGeometry(standing(0))
    assert geo.near_side == "left"  # the synthetic figure's left side is nearer the camera (world z < 0)
    assert geo.seen("knee", "left") and geo.limb_plausible("left")


def test_out_of_frame_points_are_not_seen():
    pose = standing(0)
    lms = pose.landmarks.copy()
    lms[L.LEFT_ANKLE, 1] = 1.3  # below the image
    geo = BodyGeometry(Pose(lms, pose.world, 0.0, pose.image_size))
    assert not geo.seen("ankle", "left") and geo.seen("knee", "left")


def test_empty_pose_is_safe():
    geo = BodyGeometry(Pose.empty(0.0, (640, 480)))
    assert not geo.present and geo.posture == "unknown"
    assert math.isnan(geo.angle("hip", "knee", "ankle", "left"))
