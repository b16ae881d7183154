"""Work allocation (pure): which reviewers screen which records.

Every set of ``per_record`` reviewers (each pair, for dual screening) is given the same
number of records, and the few left over go to the sets whose reviewers hold the fewest
records so far (counting what earlier allocations gave them); where that still leaves one
reviewer two records ahead of another, a set swaps the one for the other. So each
reviewer's load is within one record of every other's, each pair of reviewers shares
about the same number of records (what agreement between them is measured on), and the
same seed over the same records gives the same split: the seed shuffles the records and
the order of the sets.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from review.errors import ScreeningError


@dataclass(frozen=True, slots=True)
class Allocation:
    """Each record's reviewers, each reviewer's load and each pair's shared records."""

    assigned: Mapping[int, tuple[str, ...]]
    loads: Mapping[str, int]
    overlaps: Mapping[tuple[str, str], int]
    seed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "records": len(self.assigned),
            "loads": dict(self.loads),
            "overlaps": {f"{a},{b}": n for (a, b), n in self.overlaps.items()},
        }


def allocate(
    records: Sequence[int],
    reviewers: Sequence[str],
    per_record: int,
    *,
    seed: int,
    loads: Mapping[str, int] | None = None,
    overlaps: Mapping[tuple[str, str], int] | None = None,
) -> Allocation:
    """Give each of ``records`` to ``per_record`` of ``reviewers``; ``loads`` and
    ``overlaps`` are what they already hold (from earlier allocations), so a later batch
    keeps the whole fair. ``loads``/``overlaps`` of the result count this batch only."""
    people = list(dict.fromkeys(reviewers))
    if len(people) != len(reviewers):
        raise ScreeningError("a reviewer is named twice in --reviewers")
    if not people:
        raise ScreeningError("name the reviewers to share the records among")
    if not 1 <= per_record <= len(people):
        raise ScreeningError(
            f"--per-record {per_record} needs between 1 and {len(people)} reviewers per "
            f"record with {len(people)} reviewer{'s' if len(people) != 1 else ''}"
        )
    rng = random.Random(seed)
    order = sorted(set(records))
    rng.shuffle(order)
    combos = list(combinations(sorted(people), per_record))
    rng.shuffle(combos)
    held = {p: (loads or {}).get(p, 0) for p in people}
    shared = {pair: (overlaps or {}).get(pair, 0) for pair in combinations(sorted(people), 2)}
    base, extra = divmod(len(order), len(combos))
    counts = dict.fromkeys(combos, base)
    for combo in combos:
        for person in combo:
            held[person] += base
        for pair in combinations(combo, 2):
            shared[pair] += base
    for _ in range(extra):
        combo = min(
            (c for c in combos if counts[c] == base),
            key=lambda c: (
                max(held[p] for p in c),
                sum(held[p] for p in c),
                sum(shared[pair] for pair in combinations(c, 2)),
            ),
        )
        counts[combo] += 1
        for person in combo:
            held[person] += 1
        for pair in combinations(combo, 2):
            shared[pair] += 1
    _even_out(counts, base, held, shared)
    slots = [combo for combo in combos for _ in range(counts[combo])]
    rng.shuffle(slots)
    assigned = dict(sorted(zip(order, slots, strict=True)))
    batch_loads = dict.fromkeys(people, 0)
    batch_shared = dict.fromkeys(shared, 0)
    for combo in slots:
        for person in combo:
            batch_loads[person] += 1
        for pair in combinations(combo, 2):
            batch_shared[pair] += 1
    return Allocation(assigned, batch_loads, batch_shared, seed)


def _even_out(
    counts: dict[tuple[str, ...], int],
    base: int,
    held: dict[str, int],
    shared: dict[tuple[str, str], int],
) -> None:
    """Move records from the most to the least loaded reviewer until loads differ by at
    most one: a set of reviewers given an extra record swaps the one for the other. Each
    swap narrows the spread, so this ends."""
    while True:
        most = max(held, key=lambda p: (held[p], p))
        least = min(held, key=lambda p: (held[p], p))
        if held[most] - held[least] <= 1:
            return
        candidates = [c for c, n in counts.items() if n > base and most in c and least not in c]
        if not candidates:  # loads given before this batch are too uneven to even out
            return
        # prefer a swap onto a set of reviewers not yet given an extra record
        combo = min(candidates, key=lambda c: (counts.get(_swap(c, most, least), 0), c))
        swapped = _swap(combo, most, least)
        counts[combo] -= 1
        counts[swapped] = counts.get(swapped, 0) + 1
        held[most] -= 1
        held[least] += 1
        for pair in combinations(combo, 2):
            shared[pair] -= 1
        for pair in combinations(swapped, 2):
            shared[pair] += 1


def _swap(combo: tuple[str, ...], out: str, into: str) -> tuple[str, ...]:
    return tuple(sorted((*(p for p in combo if p != out), into)))
