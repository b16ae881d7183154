"""The decision log replayed as constraints."""

from __future__ import annotations

from review.dedup.decisions import DecisionEvent, replay_decisions


def test_replay_latest_decision_wins_and_undo_keeps_members_apart() -> None:
    def event(n: int, kind: str, pair: tuple[int, int] | None, members: tuple[int, ...] = ()):
        a, b = pair or (None, None)
        return DecisionEvent(n, kind, a, b, None, members, "2026-12-01T10:00:00Z")  # type: ignore[arg-type]

    constraints = replay_decisions(
        [
            event(1, "merge", (2, 1)),
            event(2, "keep_apart", (3, 4)),
            event(3, "undo", None, (5, 6, 7)),
            event(4, "merge", (3, 4)),
            event(5, "merge", (5, 6)),
        ]
    )
    assert constraints.merge == ((1, 2), (3, 4), (5, 6))
    assert constraints.keep_apart == frozenset({(5, 7), (6, 7)})
