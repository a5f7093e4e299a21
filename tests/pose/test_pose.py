import numpy as np

from formcheck.pose.landmarks import MIRROR, L
from formcheck.pose.smoothing import OneEuroFilter, PoseSmoother
from formcheck.pose.types import Pose


def make_pose(t: float, x_shift: float = 0.0) -> Pose:
    rng = np.random.default_rng(0)
    lms = np.zeros((33, 5), np.float32)
    lms[:, :2] = rng.uniform(0.2, 0.8, (33, 2))
    lms[:, 0] += x_shift
    lms[:, 3:] = 0.9
    world = rng.normal(0, 0.3, (33, 3)).astype(np.float32)
    return Pose(lms, world, t, (640, 480))


def test_empty_pose_is_explicit():
    p = Pose.empty(1.5, (640, 480))
    assert not p.present and p.people == 0
    assert np.isnan(p.landmarks).all()


def test_mirror_swaps_sides_and_flips_x():
    p = make_pose(0.0)
    m = p.mirrored()
    assert np.allclose(m.landmarks[L.LEFT_WRIST, 0], 1 - p.landmarks[L.RIGHT_WRIST, 0])
    assert np.allclose(m.world[L.LEFT_KNEE, 0], -p.world[L.RIGHT_KNEE, 0])
    assert np.allclose(m.mirrored().landmarks, p.landmarks)
    assert sorted(MIRROR) == list(range(33))


def test_pixels_keep_aspect_ratio():
    p = make_pose(0.0)
    assert np.allclose(p.xy_pixels, p.landmarks[:, :2] * [640, 480])


def test_one_euro_reduces_jitter_but_follows_motion():
    f = OneEuroFilter(min_cutoff=1.0, beta=5.0)
    rng = np.random.default_rng(1)
    t = np.arange(0, 4, 1 / 30)
    truth = np.where(t < 2, 0.5, 0.5 + 0.3 * (t - 2))  # still, then moving
    noisy = truth + rng.normal(0, 0.01, t.size)
    out = np.array([f(np.array([v]), ti)[0] for v, ti in zip(noisy, t, strict=True)])
    still = t < 2
    assert np.std(out[still][10:] - truth[still][10:]) < 0.5 * np.std(noisy[still] - truth[still])
    moving = t > 3
    assert np.abs(out[moving] - truth[moving]).mean() < 0.03  # little lag while moving


def test_smoother_resets_after_nobody():
    s = PoseSmoother()
    a = s(make_pose(0.0))
    s(Pose.empty(0.033, (640, 480)))
    b = make_pose(0.066, x_shift=0.1)
    out = s(b)
    assert np.allclose(out.landmarks[:, :3], b.landmarks[:, :3])  # no smoothing across the gap
    assert a.present
