"""What the person is shown of the engine's warnings: one cue at a time, calm, with the joints it is about."""

from formcheck.coaching.cues import CueBoard, CueLimiter
from formcheck.core.events import FormWarning


def test_limiter_one_cue_at_a_time_with_cooldown_per_rule():
    lim = CueLimiter(gap_s=3, cooldown_s=12)
    assert lim.allow("a", 0.0)
    assert not lim.allow("b", 1.0)  # another cue is still showing
    assert lim.allow("b", 3.5)
    assert not lim.allow("a", 8.0)  # same rule within its cooldown
    assert lim.allow("a", 12.5)


def test_board_shows_a_cue_for_a_while_speaks_less_often_and_resets_per_set():
    board = CueBoard(show_s=3.0, speak_gap_s=4.0)
    first = board.offer(FormWarning(1.0, "knees_in", "keep your knees over your toes"), (25, 27))
    assert first is not None and first.speak and first.joints == frozenset({25, 27})
    assert board.current(3.9) == first and board.current(4.0) is None
    assert board.offer(FormWarning(2.0, "chest_down", "keep your chest up")) is None  # within the gap
    second = board.offer(FormWarning(4.5, "chest_down", "keep your chest up"))
    assert second is not None and not second.speak  # spoken cues are at least 4 s apart
    assert board.offer(FormWarning(9.0, "knees_in", "keep your knees over your toes")) is None  # cooldown
    board.reset()
    assert board.current(4.6) is None
    assert board.offer(FormWarning(9.5, "knees_in", "keep your knees over your toes")) is not None
