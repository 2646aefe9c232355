"""Housekeeping's batches are sized by the time the last one took (``store.housekeeping.Sizer``)."""

from __future__ import annotations

from store.housekeeping import BUDGET, FIRST, LARGEST, SMALLEST, Sizer


def test_a_slow_batch_makes_the_next_one_fit_the_budget_at_once() -> None:
    size = Sizer()
    size.took(2 * BUDGET, FIRST)  # twice too long: the next is half
    assert size.size == FIRST // 2


def test_a_quick_batch_at_most_doubles_the_next_one() -> None:
    size = Sizer()
    size.took(BUDGET / 100, FIRST)  # would fit a hundred times more
    assert size.size == 2 * FIRST
    for _ in range(20):
        size.took(BUDGET / 100, size.size)
    assert size.size == LARGEST


def test_a_batch_never_shrinks_below_the_smallest_nor_learns_from_nothing() -> None:
    size = Sizer()
    size.took(1000 * BUDGET, FIRST)  # a stalled disk: still some progress per batch
    assert size.size == SMALLEST
    size.took(0.5, 0)  # the last, empty batch says nothing about the rate
    assert size.size == SMALLEST


def test_pages_given_back_are_sized_with_their_own_bounds() -> None:
    size = Sizer(first=64, largest=1024)
    size.took(BUDGET / 2, 64)
    assert size.size == 128
