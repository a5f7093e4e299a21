"""The annotated video's overlay names the exercise as a person reads it."""

import numpy as np

from formcheck.io.video import Overlay
from formcheck.pose.types import Pose


def test_overlay_uses_the_exercise_name_and_no_rep_count_for_holds():
    assert Overlay("pushup").title == "Push-up"
    plank = Overlay("plank")
    assert plank.title == "Plank (forearms)" and plank.kind == "hold"
    assert Overlay("squat").kind == "reps"


def test_overlay_without_a_spec_keeps_the_id_and_draws():
    overlay = Overlay("none")
    assert overlay.title == "none"
    image = np.zeros((240, 320, 3), np.uint8)
    drawn = overlay.draw(image.copy(), Pose.empty(0.0, (320, 240)))
    assert drawn.any()
