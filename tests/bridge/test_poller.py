"""The poll schedule: the growing backbone, and aims learned from the agent's recent answer times."""

from __future__ import annotations

import itertools
import random

import pytest

from bridge.poller import MARGIN, SHARE, SLOTS, AnswerTimes, PollSchedule

SCHEDULE = PollSchedule(first=1.0)


def polls_until(answer: float, learned: AnswerTimes | None, schedule: PollSchedule = SCHEDULE) -> list[float]:
    """When the bridge looks (seconds after the send) until it sees an answer ready at ``answer``."""
    looks, elapsed = [], 0.0
    while True:
        wait = schedule.next_wait(elapsed, learned)
        assert 0.0 < wait <= max(schedule.cap, schedule.spaced(elapsed))
        elapsed += wait
        looks.append(elapsed)
        if elapsed >= answer:
            return looks


def learned(times: list[float]) -> AnswerTimes:
    answers = AnswerTimes()
    for seconds in times:
        answers.record(seconds)
    return answers


def test_without_known_answer_times_the_wait_grows_with_the_time_waited() -> None:
    looks = polls_until(6.0, None)
    assert looks[:3] == pytest.approx([1.0, 1.3, 1.69])
    assert len(looks) == 8  # ... 3.71, 4.83, 6.27
    # The first look after the answer is the one that sees it (how late, in wall time, is
    # what bench/push.py's "overshoot" reports for polling).
    assert looks[-2] < 6.0 <= looks[-1] == pytest.approx(6.27, abs=0.01)
    assert AnswerTimes().marks() is None
    assert learned([5.0] * 19).marks() is None  # not enough yet


def test_an_agent_that_takes_five_seconds_is_asked_twice_just_after() -> None:
    rng = random.Random(1)
    answers = learned([rng.uniform(4.9, 5.1) for _ in range(100)])
    for answer in (4.95, 5.0, 5.05):
        looks = polls_until(answer, answers)
        assert len(looks) <= 3
        assert looks[-1] - answer <= 0.15
    # The backbone alone takes 8 looks and is 1.2 s late.
    assert len(polls_until(5.1, None)) == 8


def test_an_unusually_fast_answer_is_still_never_more_than_the_cap_late() -> None:
    answers = learned([30.0] * 50)
    for answer in (0.2, 1.0, 2.0, 7.5, 29.0, 45.0, 120.0):
        assert polls_until(answer, answers)[-1] - answer <= max(SCHEDULE.cap, SCHEDULE.spaced(answer))


def test_an_answer_long_in_coming_is_looked_for_less_often_never_more_than_the_cap_late() -> None:
    looks = polls_until(600.0, None)
    assert len([t for t in looks if 29.0 <= t < 60.0]) <= 8  # a tenth of the time waited, past 29 s
    assert len([t for t in looks if 120.0 <= t < 180.0]) == 5  # RAIA_POLL_MAX_WAIT (12 s) apart
    gaps = [b - a for a, b in itertools.pairwise(looks)]
    assert max(gaps) == pytest.approx(SCHEDULE.max_wait)
    assert all(gap <= SCHEDULE.cap + 1e-9 for a, gap in zip(looks, gaps, strict=False) if a < 29.0)
    assert len(polls_until(60.0, None)) < 28  # all the way at the 2.9 s cap: 28


def test_two_kinds_of_answers_each_get_a_look_just_after() -> None:
    rng = random.Random(2)
    answers = learned([rng.uniform(2.0, 2.1) for _ in range(50)] + [rng.uniform(12.0, 12.2) for _ in range(50)])
    assert polls_until(2.05, answers)[-1] - 2.05 <= 0.15
    assert polls_until(12.1, answers)[-1] - 12.1 <= 0.15


def test_spread_answer_times_cost_no_more_than_a_few_extra_looks() -> None:
    rng = random.Random(3)
    answers = learned([rng.uniform(1.0, 60.0) for _ in range(256)])
    for answer in (1.5, 10.0, 33.0, 60.0):
        looks = polls_until(answer, answers)
        assert len(looks) <= len(polls_until(answer, None)) + 4
        assert looks[-1] - answer <= max(SCHEDULE.cap, SCHEDULE.spaced(answer))


def test_only_recent_plausible_times_count() -> None:
    answers = learned([60.0] * 300)
    for seconds in [5.0] * 256 + [-1.0, float("nan"), 1e9]:
        answers.record(seconds)
    marks = answers.marks()
    assert marks is not None
    assert marks[1] == (5.0 + MARGIN,)  # the 60 s answers were forgotten, the odd values ignored


def test_saved_times_come_before_this_runs_own() -> None:
    answers = AnswerTimes(keep=4, enough=1)
    answers.record(9.0)
    assert answers.unsaved == 1
    answers.restore([1.0, 2.0, 3.0, -5.0])
    assert answers.recent() == [1.0, 2.0, 3.0, 9.0]  # the odd value dropped
    assert answers.recent()[-1] == 9.0  # the newest stays when the window is full
    assert answers.marks() is not None


def test_an_agent_that_got_faster_is_looked_at_early_again_after_one_answer() -> None:
    answers = learned([5.0] * 256)
    assert polls_until(0.5, answers)[-1] > 2.0  # the stretched first wait
    answers.record(0.5)
    assert polls_until(0.5, answers)[-1] == pytest.approx(1.0)  # the backbone's first look


def test_the_first_look_stays_where_the_operator_put_it() -> None:
    slow_start = PollSchedule(first=4.0)
    answers = learned([2.0] * 50)
    assert slow_start.next_wait(0.0, answers) == pytest.approx(4.0)  # no aim before RAIA_POLL_INTERVAL
    assert SCHEDULE.next_wait(-5.0) == pytest.approx(1.0)  # a replica's clock a little ahead


def test_long_waits_end_on_a_tick_of_the_clock_a_little_early_never_late() -> None:
    """Questions waiting long look together, on the clock's ticks at their phase: never later
    than without the tick (so never more than the cap late), half a tick early at least (the
    batch drains meanwhile), one and a half at most."""
    for key in range(4):
        phase = SCHEDULE.phase(key)
        for sent in (1000.0, 1000.37, 1000.99):
            for elapsed in (12.0, 45.3, 200.7):
                at = sent + elapsed
                plain = SCHEDULE.next_wait(elapsed)
                wait = SCHEDULE.next_wait(elapsed, at=at, phase=phase)
                assert (at + wait - phase) % SCHEDULE.tick == pytest.approx(0.0, abs=1e-6)
                assert plain - 1.5 * SCHEDULE.tick < wait <= plain - 0.5 * SCHEDULE.tick
    assert len({SCHEDULE.phase(key) for key in range(100)}) == 4  # a tick's looks in four batches
    aimed = learned([100.0] * 50)  # an aim just past the usual time stays exact
    assert SCHEDULE.next_wait(95.3, aimed, at=1000.37) == pytest.approx(100.0 + MARGIN - 95.3)


def test_short_waits_end_on_shared_slots_a_little_early_never_late() -> None:
    """Before the agent's pace is known (a new installation's burst) questions look every
    0.3-2 s: each such wait ends on a slot of a grid (halvings of a tick), at most a quarter
    of it early and never later, so questions sent at different instants look together."""
    rng = random.Random(4)
    ends: dict[float, set[float]] = {}
    for _ in range(300):
        sent = 1000.0 + rng.random()
        elapsed, at = 0.0, sent
        while elapsed < 10.0:
            plain = SCHEDULE.next_wait(elapsed)
            wait = SCHEDULE.next_wait(elapsed, at=at)
            if elapsed < SCHEDULE.first:
                assert wait == pytest.approx(plain)  # RAIA_POLL_INTERVAL stays the first look
            elif plain < 2 * SCHEDULE.tick:
                slot = SCHEDULE.slot(plain)
                assert SCHEDULE.tick / SLOTS <= slot <= SHARE * plain
                assert (at + wait) / slot == pytest.approx(round((at + wait) / slot), abs=1e-6)
                assert plain - slot < wait <= plain + 1e-9
                ends.setdefault(round(plain, 1), set()).add(round(at + wait, 6))
            elapsed, at = elapsed + wait, at + wait
    # 300 questions sent within a second: each step's looks meet on a few slots, not 300 instants.
    assert max(len(instants) for instants in ends.values()) < 30
    tiny = PollSchedule(first=0.01, growth=0.3, cap=0.05)  # too short to share: exact
    assert tiny.next_wait(0.02, at=1000.37) == pytest.approx(tiny.next_wait(0.02))
