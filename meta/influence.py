"""Leave-one-out analysis: the pooled result with each study omitted in turn.

As metafor's ``leave1out()`` (Viechtbauer & Cheung 2010): each fit re-estimates tau2
from the remaining k - 1 studies with the same options.
"""

from __future__ import annotations

from typing import Any

from meta.counts import StudyCounts
from meta.errors import ConvergenceError, InputDataError, MetaError
from meta.pooling import pool
from meta.results import PoolResult


def leave_one_out(counts: StudyCounts, **pool_kwargs: Any) -> tuple[tuple[str, PoolResult], ...]:
    """(omitted study, pooled result without it) for every study, in input order.

    Raises InputDataError for fewer than two studies; an error in one fit names the
    study that was left out.
    """
    if counts.k < 2:
        raise InputDataError("leave-one-out needs at least two studies")
    results: list[tuple[str, PoolResult]] = []
    for i, study in enumerate(counts.studies):
        keep = [j for j in range(counts.k) if j != i]
        try:
            results.append((study, pool(counts.subset(keep), **pool_kwargs)))
        except MetaError as error:
            kind = ConvergenceError if isinstance(error, ConvergenceError) else InputDataError
            raise kind(f"leaving out study {study!r}: {error}") from error
    return tuple(results)
