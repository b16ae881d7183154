"""Work allocation (pure): fair loads, pairs that overlap, the same seed giving the same split."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.errors import ScreeningError
from review.screening.allocation import allocate


def test_three_reviewers_two_per_record_share_evenly_and_every_pair_overlaps() -> None:
    result = allocate(range(1, 101), ["a", "b", "c"], 2, seed=7)
    assert all(len(set(people)) == 2 for people in result.assigned.values())
    assert sorted(result.assigned) == list(range(1, 101))
    loads = result.loads.values()
    assert sum(loads) == 200 and max(loads) - min(loads) <= 1
    assert set(result.overlaps) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert max(result.overlaps.values()) - min(result.overlaps.values()) <= 1


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    one = allocate(range(50), ["a", "b", "c"], 2, seed=3)
    assert allocate(list(reversed(range(50))), ["a", "b", "c"], 2, seed=3) == one
    assert allocate(range(50), ["a", "b", "c"], 2, seed=4).assigned != one.assigned


def test_a_later_batch_keeps_the_whole_fair() -> None:
    first = allocate(range(7), ["a", "b", "c"], 2, seed=1)
    second = allocate(range(7, 12), ["a", "b", "c"], 2, seed=1, loads=first.loads)
    total = {p: first.loads[p] + second.loads[p] for p in "abc"}
    assert max(total.values()) - min(total.values()) <= 1


@pytest.mark.parametrize(
    ("reviewers", "per_record", "message"),
    [
        (["a", "a"], 1, "a reviewer is named twice in --reviewers"),
        ([], 1, "name the reviewers to share the records among"),
        (
            ["a", "b"],
            3,
            "--per-record 3 needs between 1 and 2 reviewers per record with 2 reviewers",
        ),
        (["a"], 0, "--per-record 0 needs between 1 and 1 reviewers per record with 1 reviewer"),
    ],
)
def test_impossible_allocations_are_refused(
    reviewers: list[str], per_record: int, message: str
) -> None:
    with pytest.raises(ScreeningError) as caught:
        allocate(range(5), reviewers, per_record, seed=1)
    assert str(caught.value) == message


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 120),
    r=st.integers(1, 6),
    data=st.data(),
    seed=st.integers(0, 2**31),
)
def test_loads_are_always_within_one_record_and_pairs_share_alike(
    n: int, r: int, data: st.DataObject, seed: int
) -> None:
    k = data.draw(st.integers(1, r))
    people = [f"p{i}" for i in range(r)]
    result = allocate(range(n), people, k, seed=seed)
    assert len(result.assigned) == n
    assert all(len(set(who)) == k for who in result.assigned.values())
    loads = [result.loads[p] for p in people]
    assert sum(loads) == n * k
    assert max(loads) - min(loads) <= 1
    if k >= 2:
        shared = {pair: 0 for pair in combinations(sorted(people), 2)}
        for who in result.assigned.values():
            for pair in combinations(sorted(who), 2):
                shared[pair] += 1
        assert shared == dict(result.overlaps)
        assert max(shared.values()) - min(shared.values()) <= 4
