"""What a person does with duplicates: run the clustering, decide queued pairs, undo a
cluster, export the membership. Composes the pure core (``review.dedup.matching``) and the store
(``review.store.dedup``); every change is one transaction.

Re-runs respect people. Human decisions are an append-only log replayed on every run
(``review.dedup.replay_decisions``): a pair a person kept apart stays apart (checked against
every member of a growing cluster), a pair a person merged stays merged (even against an
automatic veto), and undoing a cluster keeps its members apart from each other, so the
automatic matcher does not re-form it; a new record can still join any one of them. The queue
is rebuilt by each run, without the pairs a person has already decided.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from review.dedup.features import features
from review.dedup.matching import (
    DedupCounts,
    deduplicate,
    merged_view,
    pair_key,
    primary_rank,
)
from review.errors import DedupError
from review.records import Record
from review.store import Store, utc_now
from review.store import dedup as sql
from review.store.records import iter_records


@dataclass(frozen=True, slots=True)
class QueuedPair:
    """An uncertain pair waiting for a person, with both records."""

    a: int
    b: int
    score: float
    reason: str
    record_a: Record
    record_b: Record


def run_dedup(store: Store, progress: Callable[[int, int], None] | None = None) -> DedupCounts:
    """Cluster every live record again, honouring the decision log; return the new counts."""
    started = utc_now()
    with store.transaction() as conn:
        records = list(iter_records(conn))
        result = deduplicate(records, sql.load_constraints(conn), progress)
        sql.replace_all(
            conn,
            ((c.members, c.primary, dict(c.reasons)) for c in result.clusters),
            ((m.a, m.b, m.score, m.reason) for m in result.uncertain),
            started_at=started,
            n_records=result.n_records,
            settings={"candidate_pairs": result.n_candidate_pairs},
        )
        return sql.dedup_counts(conn)


def _live(conn_ids: set[int], *ids: int) -> None:
    for rid in ids:
        if rid not in conn_ids:
            raise DedupError(
                f"record {rid} does not exist or was withdrawn by its source; "
                "'casepool dedup --export FILE.csv' lists the records"
            )


def _choose_primary(records: dict[int, Record]) -> int:
    return min(records, key=lambda rid: (primary_rank(records[rid], features(records[rid])), rid))


def decide(store: Store, a: int, b: int, decision: Literal["merge", "keep_apart"]) -> int:
    """Record a person's decision on a pair; a merge joins the two clusters at once.

    Returns the id of the cluster that now holds ``a``.
    """
    if a == b:
        raise DedupError(f"record {a} cannot be paired with itself")
    pair = pair_key(a, b)
    with store.transaction() as conn:
        _live(sql.live_record_ids(conn), *pair)
        cluster_a, cluster_b = sql.cluster_of(conn, pair[0]), sql.cluster_of(conn, pair[1])
        members_a = sql.cluster_members(conn, cluster_a) or [pair[0]]
        members_b = sql.cluster_members(conn, cluster_b) or [pair[1]]
        if decision == "keep_apart":
            if cluster_a == cluster_b:
                raise DedupError(
                    f"records {pair[0]} and {pair[1]} are both in cluster {cluster_a}; "
                    f"split it first with 'casepool dedup undo {cluster_a}'"
                )
            sql.add_decision(conn, "keep_apart", pair=pair)
            sql.drop_queued(conn, pair)
            return cluster_a
        constraints = sql.load_constraints(conn)
        for x in members_a:
            for y in members_b:
                if pair_key(x, y) in constraints.keep_apart:
                    raise DedupError(
                        f"cannot merge records {pair[0]} and {pair[1]}: records {min(x, y)} and "
                        f"{max(x, y)} of their clusters were kept apart by a person"
                    )
        sql.add_decision(conn, "merge", pair=pair)
        if cluster_a == cluster_b:
            sql.drop_queued(conn, pair)
            return cluster_a
        members = sorted(set(members_a) | set(members_b))
        records = sql.records_by_id(conn, members)
        primary = _choose_primary(records)
        reasons = {
            rid: ("merged by a person" if why == "primary" else why)
            for rid, why in sql.member_reasons(conn, members).items()
        }
        reasons.setdefault(pair[0], "merged by a person")
        reasons.setdefault(pair[1], "merged by a person")
        reasons[primary] = "primary"
        new_id = sql.write_cluster(conn, members, primary, reasons)
        sql.drop_settled(conn)
        return new_id


def undo_cluster(store: Store, cluster_id: int) -> tuple[int, ...]:
    """Split a cluster into single records and log it, so a re-run keeps them apart."""
    with store.transaction() as conn:
        members = tuple(sql.cluster_members(conn, cluster_id))
        if len(members) < 2:
            raise DedupError(
                f"there is no cluster {cluster_id} of two or more records; "
                "'casepool dedup --export FILE.csv' lists the clusters"
            )
        sql.add_decision(conn, "undo", cluster_id=cluster_id, members=members)
        sql.dissolve_cluster(conn, cluster_id)
        return members


def pending_pairs(store: Store) -> list[QueuedPair]:
    """The queue, most similar first, leaving out pairs already settled (same cluster now)."""
    conn = store.conn
    rows = sql.queued_pairs(conn)
    records = sql.records_by_id(conn, [x for a, b, _, _ in rows for x in (a, b)])
    return [
        QueuedPair(a, b, score, reason, records[a], records[b])
        for a, b, score, reason in rows
        if sql.cluster_of(conn, a) != sql.cluster_of(conn, b)
    ]


def is_pending(store: Store, a: int, b: int) -> bool:
    """True while the pair is queued and its records are in different clusters."""
    conn = store.conn
    queued = {(x, y) for x, y, _, _ in sql.queued_pairs(conn)}
    return pair_key(a, b) in queued and sql.cluster_of(conn, a) != sql.cluster_of(conn, b)


def cluster_view(store: Store, cluster_id: int) -> Record:
    """The merged view of a cluster: its primary with missing fields filled from the others."""
    conn = store.conn
    members = sql.cluster_members(conn, cluster_id) or [cluster_id]
    membership = sql.cluster_membership(conn)
    records = sql.records_by_id(conn, [m for m in members if m in membership])
    if not records:
        raise DedupError(f"there is no cluster {cluster_id}")
    ordered = sorted(records, key=lambda rid: (not membership[rid][1], rid))
    return merged_view([records[rid] for rid in ordered])


def export_membership(store: Store, path: Path) -> int:
    """Write ``source, source_id, cluster_id, is_primary, record_id`` for every live record;
    return the rows written.

    ``record_id`` tells apart records without a source id and is the id that
    ``casepool dedup review`` shows. Cells a spreadsheet would run as a formula are
    neutralised as in every casepool export.
    """
    from review.sources.tabular import neutralise

    rows = sql.membership_rows(store.conn)
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
    return sql.dedup_counts(store.conn)
