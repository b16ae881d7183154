"""A person's deduplication decisions: an append-only log, replayed as constraints (pure).

Re-runs respect people: the latest decision about a pair wins, a pair a person kept apart
stays apart (checked against every member of a growing cluster), a pair a person merged
stays merged (even against an automatic veto), and undoing a cluster keeps its members
apart from each other, so the matcher does not re-form it; a new record can still join any
one of them, and a later explicit merge of two of them still counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

DecisionKind = Literal["merge", "keep_apart", "undo"]


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """One decision from the log: 'merge' or 'keep_apart' a pair, or 'undo' a cluster
    (with its members at that moment)."""

    id: int
    kind: DecisionKind
    record_a: int | None
    record_b: int | None
    cluster_id: int | None
    members: tuple[int, ...]
    decided_at: str
    decided_by: str | None = None

    @property
    def pair(self) -> tuple[int, int] | None:
        """The pair of a 'merge' or 'keep_apart' decision, ids ascending."""
        if self.record_a is None or self.record_b is None:
            return None
        return pair_key(self.record_a, self.record_b)


@dataclass(frozen=True, slots=True)
class Constraints:
    """A person's decisions: pairs to merge and pairs to keep apart (ids ascending)."""

    merge: tuple[tuple[int, int], ...] = ()
    keep_apart: frozenset[tuple[int, int]] = frozenset()


def pair_key(a: int, b: int) -> tuple[int, int]:
    """A pair of record ids in ascending order."""
    return (a, b) if a < b else (b, a)


def replay_decisions(events: Iterable[DecisionEvent]) -> Constraints:
    """The log, oldest first, as constraints (see the module docstring)."""
    state: dict[tuple[int, int], str] = {}
    order: dict[tuple[int, int], int] = {}
    for n, event in enumerate(events):
        if event.kind == "undo":
            ids = sorted(set(event.members))
            touched = [(x, y) for i, x in enumerate(ids) for y in ids[i + 1 :]]
        elif event.pair is not None:
            touched = [event.pair]
        else:
            continue
        for key in touched:
            state[key] = "merge" if event.kind == "merge" else "keep_apart"
            order[key] = n
    merges = sorted((k for k, v in state.items() if v == "merge"), key=lambda k: order[k])
    return Constraints(
        merge=tuple(merges),
        keep_apart=frozenset(k for k, v in state.items() if v == "keep_apart"),
    )
