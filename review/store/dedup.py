"""Deduplication's tables: cluster membership, the queue of uncertain pairs, the decision
log and the runs. Facts only: which clusters to form and how to name them is decided by
``review.dedup``; a record with no membership row is its own cluster, named by its id."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_

from review.dedup.clusters import Cluster, Membership
from review.dedup.decisions import DecisionEvent
from review.store.engine import Tx
from review.store.records import chunks, live_record_ids
from review.store.schema import dedup_decisions, dedup_members, dedup_queue, dedup_runs, records


def membership(tx: Tx) -> Membership:
    """Every live record's cluster and each cluster's primary, as stored."""
    query = (
        select(dedup_members.c.record_id, dedup_members.c.cluster_id, dedup_members.c.is_primary)
        .join(records, records.c.id == dedup_members.c.record_id)
        .where(records.c.deleted_at.is_(None))
    )
    rows = [(int(r), int(c), bool(p)) for r, c, p in tx.connection.execute(query)]
    return Membership.from_rows(live_record_ids(tx), rows)


def decisions(tx: Tx) -> list[DecisionEvent]:
    """Every human decision, oldest first."""
    query = select(dedup_decisions).order_by(dedup_decisions.c.id)
    return [
        DecisionEvent(
            id=int(r.id),
            kind=r.kind,
            record_a=r.record_a,
            record_b=r.record_b,
            cluster_id=r.cluster_id,
            members=tuple(int(m) for m in json.loads(r.members)),
            decided_at=r.decided_at,
            decided_by=r.decided_by,
        )
        for r in tx.connection.execute(query)
    ]


def add_decision(
    tx: Tx,
    kind: str,
    *,
    at: str,
    by: str | None,
    pair: tuple[int, int] | None = None,
    cluster_id: int | None = None,
    members: Sequence[int] = (),
) -> int:
    """Append a decision to the log, taken ``at`` by ``by``."""
    a, b = pair if pair is not None else (None, None)
    statement = (
        insert(dedup_decisions)
        .values(
            kind=kind,
            record_a=a,
            record_b=b,
            cluster_id=cluster_id,
            members=json.dumps(list(members)),
            decided_at=at,
            decided_by=by,
        )
        .returning(dedup_decisions.c.id)
    )
    return int(tx.connection.execute(statement).scalar_one())


def write_clusters(tx: Tx, clusters: Iterable[Cluster]) -> None:
    """Store clusters, replacing their members' previous rows."""
    rows: list[dict[str, Any]] = []
    for cluster in clusters:
        reasons = dict(cluster.reasons)
        for record_id in cluster.members:
            rows.append(
                {
                    "record_id": record_id,
                    "cluster_id": cluster.cluster_id,
                    "is_primary": int(record_id == cluster.primary),
                    "reason": reasons.get(record_id, "linked"),
                }
            )
    clear_members(tx, [row["record_id"] for row in rows])
    if rows:
        tx.connection.execute(insert(dedup_members), rows)


def clear_members(tx: Tx, record_ids: Sequence[int]) -> None:
    """Make these records their own clusters again (delete their membership rows)."""
    for part in chunks(sorted(set(record_ids))):
        tx.connection.execute(delete(dedup_members).where(dedup_members.c.record_id.in_(part)))


def replace_all(
    tx: Tx,
    clusters: Sequence[Cluster],
    queue: Iterable[tuple[int, int, float, str]],
    *,
    started_at: str,
    finished_at: str,
    n_records: int,
    settings: dict[str, object],
) -> int:
    """Replace every stored cluster and the queue with a new run's; log the run, return its id."""
    connection = tx.connection
    connection.execute(delete(dedup_members))
    connection.execute(delete(dedup_queue))
    write_clusters(tx, clusters)
    pairs = list(queue)
    run_id = connection.execute(
        insert(dedup_runs)
        .values(
            started_at=started_at,
            finished_at=finished_at,
            n_records=n_records,
            n_clusters=sum(1 for c in clusters if len(c.members) > 1),
            n_duplicates=sum(len(c.members) - 1 for c in clusters),
            n_queued=len(pairs),
            settings=json.dumps(settings),
        )
        .returning(dedup_runs.c.id)
    ).scalar_one()
    if pairs:
        connection.execute(
            insert(dedup_queue),
            [
                {"record_a": a, "record_b": b, "score": s, "reason": r, "run_id": run_id}
                for a, b, s, r in pairs
            ],
        )
    return int(run_id)


def queued_pairs(tx: Tx) -> list[tuple[int, int, float, str]]:
    """Uncertain pairs of live records waiting for a person, most similar first."""
    a, b = records.alias("a"), records.alias("b")
    query = (
        select(
            dedup_queue.c.record_a,
            dedup_queue.c.record_b,
            dedup_queue.c.score,
            dedup_queue.c.reason,
        )
        .join(a, a.c.id == dedup_queue.c.record_a)
        .join(b, b.c.id == dedup_queue.c.record_b)
        .where(a.c.deleted_at.is_(None), b.c.deleted_at.is_(None))
        .order_by(dedup_queue.c.score.desc(), dedup_queue.c.record_a, dedup_queue.c.record_b)
    )
    return [(int(x), int(y), float(s), str(r)) for x, y, s, r in tx.connection.execute(query)]


def drop_queued(tx: Tx, pairs: Iterable[tuple[int, int]]) -> None:
    """Remove pairs from the queue."""
    for part in chunks(sorted(set(pairs))):
        tx.connection.execute(
            delete(dedup_queue).where(
                tuple_(dedup_queue.c.record_a, dedup_queue.c.record_b).in_(part)
            )
        )


def count_queued(tx: Tx) -> int:
    """Pairs in the queue (whatever their records' state)."""
    return int(tx.connection.execute(select(func.count()).select_from(dedup_queue)).scalar_one())


def member_reasons(tx: Tx, ids: Iterable[int]) -> dict[int, str]:
    """Why each of these records joined its cluster (records in no stored cluster are left out)."""
    found: dict[int, str] = {}
    for part in chunks(sorted(set(ids))):
        query = select(dedup_members.c.record_id, dedup_members.c.reason).where(
            dedup_members.c.record_id.in_(part)
        )
        found.update((int(r), str(why)) for r, why in tx.connection.execute(query))
    return found


def membership_rows(tx: Tx, current: Membership) -> list[tuple[str, str | None, int, bool, int]]:
    """(source, source_id, cluster id, is_primary, record id) for every live record, in
    record id order."""
    query = (
        select(records.c.id, records.c.source, records.c.source_id)
        .where(records.c.deleted_at.is_(None))
        .order_by(records.c.id)
    )
    return [
        (source, source_id, current.cluster_of[rid], current.is_primary(rid), int(rid))
        for rid, source, source_id in tx.connection.execute(query)
        if rid in current.cluster_of
    ]


def one_cluster(tx: Tx, name: int) -> tuple[int, tuple[int, ...], int] | None:
    """One cluster as ``Membership`` would give it, without reading every cluster: its id
    (``name`` itself, or where the cluster once named so went), its live members ascending
    and its primary; None when nothing of it is left."""
    for _ in range(2):
        query = (
            select(dedup_members.c.record_id, dedup_members.c.is_primary)
            .join(records, records.c.id == dedup_members.c.record_id)
            .where(dedup_members.c.cluster_id == name, records.c.deleted_at.is_(None))
        )
        rows = [(int(r), bool(p)) for r, p in tx.connection.execute(query)]
        if rows:
            members = tuple(sorted(r for r, _ in rows))
            primaries = [r for r, p in rows if p]
            return name, members, primaries[0] if primaries else members[0]
        live = tx.connection.execute(
            select(records.c.id).where(records.c.id == name, records.c.deleted_at.is_(None))
        ).scalar()
        if live is None:
            return None
        moved = tx.connection.execute(
            select(dedup_members.c.cluster_id).where(dedup_members.c.record_id == name)
        ).scalar()
        if moved is None or int(moved) == name:
            return name, (name,), name
        name = int(moved)
    return None
