"""What a person does with duplicates: run the clustering, decide queued pairs, undo a
cluster, look at a cluster, export the membership. Composes the pure core
(``review.dedup.clusters``, ``matching``, ``decisions``) and the store; every change is one
transaction, and the time and the person acting are given by the caller.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from meta.progress import Progress
from review.clock import Clock
from review.dedup.clusters import (
    Cluster,
    Membership,
    deduplicate,
    merged_view,
    name_clusters,
    primary_rank,
)
from review.dedup.decisions import pair_key, replay_decisions
from review.dedup.features import features
from review.dedup.pairs import QueuedPair
from review.errors import DedupError
from review.prisma.counts import DedupCounts, identification_counts
from review.records import Record
from review.store import Store, Tx
from review.store import dedup as sql
from review.store.records import iter_records, per_source_counts, records_by_id


def run_dedup(
    store: Store,
    *,
    clock: Clock,
    progress: Progress | None = None,
) -> DedupCounts:
    """Cluster every live record again, honouring the decision log and keeping cluster ids;
    return the new counts."""
    started = clock()
    with store.transaction() as tx:
        before = sql.membership(tx)
        records = _read(tx, len(before.cluster_of), progress)
        constraints = replay_decisions(sql.decisions(tx))
        result = deduplicate(records, constraints, progress, previous=before.cluster_of)
        sql.replace_all(
            tx,
            result.clusters,
            ((m.a, m.b, m.score, m.reason) for m in result.uncertain),
            started_at=started,
            finished_at=clock(),
            n_records=result.n_records,
            settings={"candidate_pairs": result.n_candidate_pairs},
        )
        return _counts(tx)


def _read(tx: Tx, total: int, progress: Progress | None) -> list[tuple[int, Record]]:
    records = []
    for n, item in enumerate(iter_records(tx)):
        if progress is not None and n % 5000 == 0:
            progress("reading records", n, total)
        records.append(item)
    if progress is not None:
        progress("reading records", len(records), total)
    return records


def _counts(tx: Tx) -> DedupCounts:
    current = sql.membership(tx)
    return identification_counts(per_source_counts(tx), current, len(_pending(tx, current)))


def _pending(tx: Tx, current: Membership) -> list[tuple[int, int, float, str]]:
    return [
        row
        for row in sql.queued_pairs(tx)
        if current.cluster_of.get(row[0]) != current.cluster_of.get(row[1])
    ]


def _check_live(current: Membership, *ids: int) -> None:
    for rid in ids:
        if rid not in current.cluster_of:
            raise DedupError(
                f"record {rid} does not exist or was withdrawn by its source; "
                "'casepool dedup --export FILE.csv' lists the records"
            )


def _primary(records: dict[int, Record]) -> int:
    return min(records, key=lambda rid: (primary_rank(records[rid], features(records[rid])), rid))


def decide(
    store: Store,
    a: int,
    b: int,
    decision: Literal["merge", "keep_apart"],
    *,
    at: str,
    by: str | None,
) -> int:
    """Record a person's decision on a pair; a merge joins the two clusters at once.

    Returns the id of the cluster that now holds ``a``.
    """
    if a == b:
        raise DedupError(f"record {a} cannot be paired with itself")
    pair = pair_key(a, b)
    with store.transaction() as tx:
        current = sql.membership(tx)
        _check_live(current, *pair)
        cluster_a, cluster_b = current.cluster_of[pair[0]], current.cluster_of[pair[1]]
        if decision == "keep_apart":
            if cluster_a == cluster_b:
                raise DedupError(
                    f"records {pair[0]} and {pair[1]} are both in cluster {cluster_a}; "
                    f"split it first with 'casepool dedup undo {cluster_a}'"
                )
            sql.add_decision(tx, "keep_apart", pair=pair, at=at, by=by)
            sql.drop_queued(tx, [pair])
            return current.cluster_of[a]
        members_a, members_b = current.members(cluster_a), current.members(cluster_b)
        keep_apart = replay_decisions(sql.decisions(tx)).keep_apart
        for x in members_a:
            for y in members_b:
                if pair_key(x, y) in keep_apart:
                    raise DedupError(
                        f"cannot merge records {pair[0]} and {pair[1]}: records {min(x, y)} and "
                        f"{max(x, y)} of their clusters were kept apart by a person"
                    )
        sql.add_decision(tx, "merge", pair=pair, at=at, by=by)
        if cluster_a == cluster_b:
            sql.drop_queued(tx, [pair])
            return cluster_a
        members = sorted({*members_a, *members_b})
        (name,) = name_clusters([members], current.cluster_of)
        primary = _primary(records_by_id(tx, members))
        reasons = {
            rid: ("merged by a person" if why == "primary" else why)
            for rid, why in sql.member_reasons(tx, members).items()
        }
        reasons.setdefault(pair[0], "merged by a person")
        reasons.setdefault(pair[1], "merged by a person")
        reasons[primary] = "primary"
        sql.write_clusters(
            tx, [Cluster(tuple(members), primary, tuple(sorted(reasons.items())), name)]
        )
        after = sql.membership(tx)
        settled = [
            (x, y)
            for x, y, _, _ in sql.queued_pairs(tx)
            if after.cluster_of.get(x) == after.cluster_of.get(y)
        ]
        sql.drop_queued(tx, settled)
        return name


def undo_cluster(store: Store, cluster_id: int, *, at: str, by: str | None) -> tuple[int, ...]:
    """Split a cluster into single records and log it, so a re-run keeps them apart. The
    record the cluster is named by keeps the name; the others get their own back."""
    with store.transaction() as tx:
        current = sql.membership(tx)
        members = current.members(cluster_id)
        if len(members) < 2:
            raise DedupError(
                f"there is no cluster {cluster_id} of two or more records; "
                "'casepool dedup --export FILE.csv' lists the clusters"
            )
        sql.add_decision(tx, "undo", cluster_id=cluster_id, members=members, at=at, by=by)
        sql.clear_members(tx, members)
        names = name_clusters([[m] for m in members], current.cluster_of)
        renamed = [
            Cluster((m,), m, ((m, "split by a person"),), name)
            for m, name in zip(members, names, strict=True)
            if name != m
        ]
        sql.write_clusters(tx, renamed)
        return members


def pending_pairs(store: Store) -> list[QueuedPair]:
    """The queue, most similar first, leaving out pairs already settled (same cluster now)."""
    with store.read() as tx:
        rows = _pending(tx, sql.membership(tx))
        records = records_by_id(tx, [x for a, b, _, _ in rows for x in (a, b)])
    return [QueuedPair(a, b, score, reason, records[a], records[b]) for a, b, score, reason in rows]


def is_pending(store: Store, a: int, b: int) -> bool:
    """True while the pair is queued and its records are in different clusters."""
    with store.read() as tx:
        rows = _pending(tx, sql.membership(tx))
    return pair_key(a, b) in {(x, y) for x, y, _, _ in rows}


def membership(store: Store) -> Membership:
    """Every live record's cluster, as stored now."""
    with store.read() as tx:
        return sql.membership(tx)


def cluster_view(store: Store, cluster_id: int) -> Record:
    """The merged view of a cluster: its primary with missing fields filled from the others."""
    with store.read() as tx:
        current = sql.membership(tx)
        members = current.members(cluster_id)
        if not members:
            raise DedupError(f"there is no cluster {cluster_id}")
        records = records_by_id(tx, members)
    ordered = sorted(members, key=lambda rid: (not current.is_primary(rid), rid))
    return merged_view([records[rid] for rid in ordered])


def export_membership(store: Store, path: Path) -> int:
    """Write ``source, source_id, cluster_id, is_primary, record_id`` for every live record;
    return the rows written.

    ``record_id`` tells apart records without a source id and is the id that
    ``casepool dedup review`` shows. Cells a spreadsheet would run as a formula are
    neutralised as in every casepool export.
    """
    from review.sources.tabular import neutralise

    with store.read() as tx:
        rows = sql.membership_rows(tx, sql.membership(tx))
    if not path.parent.is_dir():
        raise DedupError(
            f"{path}: the folder {path.parent} does not exist; create it or choose another"
        )
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "source_id", "cluster_id", "is_primary", "record_id"])
            for source, source_id, cluster_id, is_primary, record_id in rows:
                writer.writerow(
                    [
                        neutralise(source),
                        neutralise(source_id or ""),
                        cluster_id,
                        int(is_primary),
                        record_id,
                    ]
                )
    except OSError as exc:
        raise DedupError(f"{path}: cannot write the export: {exc.strerror or exc}") from None
    return len(rows)


def counts(store: Store) -> DedupCounts:
    """PRISMA identification counts as the store holds them now."""
    with store.read() as tx:
        return _counts(tx)
