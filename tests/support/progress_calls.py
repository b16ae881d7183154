"""A recording ``meta.progress.Progress``: what a use case reported, to check that a bar
would move (several updates, never backwards, reaching its total)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Recorder:
    """Every progress call, in order, as (phase, done, total, unit)."""

    calls: list[tuple[str, int, int | None, str]] = field(default_factory=list)

    def __call__(self, phase: str, done: int, total: int | None, unit: str = "records") -> None:
        self.calls.append((phase, done, total, unit))

    def phases(self) -> list[str]:
        """The phases in the order they first reported."""
        return list(dict.fromkeys(phase for phase, *_ in self.calls))

    def of(self, phase: str) -> list[tuple[int, int | None, str]]:
        """(done, total, unit) of every call of ``phase``."""
        return [(done, total, unit) for p, done, total, unit in self.calls if p == phase]

    def counts_up(self, phase: str, total: int, unit: str, *, updates: int) -> bool:
        """True when ``phase`` counted in ``unit`` towards ``total`` (the same in every call),
        never backwards, at least ``updates`` distinct values, ending at ``total``."""
        calls = self.of(phase)
        done = [d for d, _, _ in calls]
        return (
            bool(calls)
            and all(t == total and u == unit for _, t, u in calls)
            and done == sorted(done)
            and len(set(done)) >= updates
            and done[-1] == total
        )
