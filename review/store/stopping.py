"""The stopping rule's random samples: one row per draw and the urn's seeded order. Rows
are appended, never updated: a later draw of the same sample is a new row saying how much
of the order has been released."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select

from review.screening.events import Paper, Stage
from review.store.engine import Tx
from review.store.schema import stopping_samples, stopping_urn


@dataclass(frozen=True, slots=True)
class SampleRow:
    """A sample as stored: its first draw's facts and how much of the urn is released."""

    id: int
    stage: Stage
    reviewer: str | None
    seed: int
    pool: int
    ranked: int
    ranked_relevant: int
    drawn: int
    draws: int
    drawn_at: str
    drawn_by: str | None


def add_sample(
    tx: Tx,
    *,
    stage: Stage,
    reviewer: str | None,
    seed: int,
    pool: int,
    ranked: int,
    ranked_relevant: int,
    drawn: int,
    urn: Sequence[Paper],
    at: str,
    by: str | None,
) -> int:
    """Store a first draw and the whole urn in its random order; return the sample's id."""
    sample_id = int(
        tx.connection.execute(
            insert(stopping_samples)
            .values(
                stage=stage,
                reviewer=reviewer,
                seed=seed,
                pool=pool,
                ranked=ranked,
                ranked_relevant=ranked_relevant,
                drawn=drawn,
                extends=None,
                drawn_at=at,
                drawn_by=by,
            )
            .returning(stopping_samples.c.id)
        ).scalar_one()
    )
    rows = [
        {
            "sample_id": sample_id,
            "position": i,
            "cluster_id": p.cluster_id,
            "record_id": p.record_id,
        }
        for i, p in enumerate(urn)
    ]
    if rows:
        tx.connection.execute(insert(stopping_urn), rows)
    return sample_id


def extend_sample(tx: Tx, sample: SampleRow, *, drawn: int, at: str, by: str | None) -> None:
    """Record that ``drawn`` positions of the sample's urn are now released."""
    tx.connection.execute(
        insert(stopping_samples).values(
            stage=sample.stage,
            reviewer=sample.reviewer,
            seed=sample.seed,
            pool=sample.pool,
            ranked=sample.ranked,
            ranked_relevant=sample.ranked_relevant,
            drawn=drawn,
            extends=sample.id,
            drawn_at=at,
            drawn_by=by,
        )
    )


def latest_sample(tx: Tx, stage: Stage, reviewer: str | None) -> SampleRow | None:
    """The newest sample drawn at ``stage`` for ``reviewer`` (None: the review as a whole),
    with the count of urn positions released by its latest draw."""
    c = stopping_samples.c
    who = c.reviewer.is_(None) if reviewer is None else c.reviewer == reviewer
    first = tx.connection.execute(
        select(stopping_samples)
        .where(c.stage == stage, who, c.extends.is_(None))
        .order_by(c.id.desc())
        .limit(1)
    ).first()
    if first is None:
        return None
    mine = or_(c.id == first.id, c.extends == first.id)
    drawn, draws = tx.connection.execute(select(func.max(c.drawn), func.count()).where(mine)).one()
    return SampleRow(
        id=int(first.id),
        stage=first.stage,
        reviewer=first.reviewer,
        seed=int(first.seed),
        pool=int(first.pool),
        ranked=int(first.ranked),
        ranked_relevant=int(first.ranked_relevant),
        drawn=int(drawn),
        draws=int(draws),
        drawn_at=str(first.drawn_at),
        drawn_by=first.drawn_by,
    )


def urn(tx: Tx, sample_id: int) -> list[Paper]:
    """The sample's urn in its random order (a paper's members are not kept: only its
    cluster then and the record, enough to find it today)."""
    c = stopping_urn.c
    rows = tx.connection.execute(
        select(c.cluster_id, c.record_id).where(c.sample_id == sample_id).order_by(c.position)
    )
    return [Paper(int(r.cluster_id), int(r.record_id), ()) for r in rows]
