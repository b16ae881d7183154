"""SQL for deduplication: cluster membership, the queue of uncertain pairs, human decisions.

A cluster's id is the smallest record id among its members (stable across re-runs while
that record stays in it); a record in no stored cluster is its own singleton and primary.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from review.dedup.matching import Constraints, DedupCounts, replay_decisions
from review.records import Record
from review.store import utc_now
from review.store.records import row_to_record


@dataclass(frozen=True, slots=True)
class Decision:
    """One human decision from the log: 'merge' or 'keep_apart' a pair, or 'undo' a cluster."""

    id: int
    kind: str
    record_a: int | None
    record_b: int | None
    cluster_id: int | None
    members: tuple[int, ...]
    decided_at: str


def cluster_membership(conn: sqlite3.Connection) -> dict[int, tuple[int, bool]]:
    """Record id -> (cluster id, is_primary) for every record not withdrawn by its source.

    Withdrawn (deleted) records drop out of their cluster; if the primary was withdrawn, the
    remaining member with the smallest id stands in as primary (the cluster keeps its id).
    """
    rows = conn.execute(
        "SELECT r.id, m.cluster_id, m.is_primary FROM records r"
        " LEFT JOIN dedup_members m ON m.record_id = r.id"
        " WHERE r.deleted_at IS NULL ORDER BY r.id"
    ).fetchall()
    result: dict[int, tuple[int, bool]] = {}
    members: dict[int, list[int]] = defaultdict(list)
    has_primary: set[int] = set()
    for record_id, cluster_id, is_primary in rows:
        if cluster_id is None:
            result[int(record_id)] = (int(record_id), True)
            continue
        members[int(cluster_id)].append(int(record_id))
        if is_primary:
            has_primary.add(int(cluster_id))
        result[int(record_id)] = (int(cluster_id), bool(is_primary))
    for cluster_id, ids in members.items():
        if cluster_id not in has_primary:
            result[min(ids)] = (cluster_id, True)
    return result


def load_decisions(conn: sqlite3.Connection) -> list[Decision]:
    """Every human decision, oldest first."""
    rows = conn.execute(
        "SELECT id, kind, record_a, record_b, cluster_id, members, decided_at"
        " FROM dedup_decisions ORDER BY id"
    ).fetchall()
    return [
        Decision(
            id=int(r["id"]),
            kind=r["kind"],
            record_a=r["record_a"],
            record_b=r["record_b"],
            cluster_id=r["cluster_id"],
            members=tuple(int(m) for m in json.loads(r["members"])),
            decided_at=r["decided_at"],
        )
        for r in rows
    ]


def load_constraints(conn: sqlite3.Connection) -> Constraints:
    """The decision log replayed as merge / keep-apart constraints for the matcher."""
    return replay_decisions(
        (
            d.kind,
            (d.record_a, d.record_b) if d.record_a is not None and d.record_b is not None else None,
            d.members,
        )
        for d in load_decisions(conn)
    )


def add_decision(
    conn: sqlite3.Connection,
    kind: str,
    *,
    pair: tuple[int, int] | None = None,
    cluster_id: int | None = None,
    members: tuple[int, ...] = (),
) -> int:
    """Append a decision to the log (call inside ``Store.transaction()``)."""
    a, b = pair if pair is not None else (None, None)
    cur = conn.execute(
        "INSERT INTO dedup_decisions (kind, record_a, record_b, cluster_id, members, decided_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (kind, a, b, cluster_id, json.dumps(list(members)), utc_now()),
    )
    return int(cur.lastrowid or 0)


def live_record_ids(conn: sqlite3.Connection) -> set[int]:
    """Ids of records not withdrawn by their source."""
    return {int(r[0]) for r in conn.execute("SELECT id FROM records WHERE deleted_at IS NULL")}


def records_by_id(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, Record]:
    """The records with these ids (withdrawn ones included)."""
    wanted = sorted(set(ids))
    found: dict[int, Record] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM records WHERE id IN ({marks})", chunk):
            found[int(row["id"])] = row_to_record(row)
    return found


def cluster_members(conn: sqlite3.Connection, cluster_id: int) -> list[int]:
    """Record ids of a stored cluster of two or more (empty if there is none with that id)."""
    return [
        int(r[0])
        for r in conn.execute(
            "SELECT record_id FROM dedup_members WHERE cluster_id = ? ORDER BY record_id",
            (cluster_id,),
        )
    ]


def cluster_of(conn: sqlite3.Connection, record_id: int) -> int:
    """The id of the cluster ``record_id`` belongs to (its own id if it is a singleton)."""
    row = conn.execute(
        "SELECT cluster_id FROM dedup_members WHERE record_id = ?", (record_id,)
    ).fetchone()
    return int(row[0]) if row else record_id


def write_cluster(
    conn: sqlite3.Connection, members: Iterable[int], primary: int, reasons: dict[int, str]
) -> int:
    """Store one cluster (replacing the members' previous rows); its id is the smallest member."""
    ids = sorted(set(members))
    cluster_id = ids[0]
    conn.executemany("DELETE FROM dedup_members WHERE record_id = ?", ((i,) for i in ids))
    conn.executemany(
        "INSERT INTO dedup_members (record_id, cluster_id, is_primary, reason) VALUES (?, ?, ?, ?)",
        ((i, cluster_id, int(i == primary), reasons.get(i, "linked")) for i in ids),
    )
    return cluster_id


def dissolve_cluster(conn: sqlite3.Connection, cluster_id: int) -> None:
    """Make every member of the cluster a singleton again."""
    conn.execute("DELETE FROM dedup_members WHERE cluster_id = ?", (cluster_id,))


def replace_all(
    conn: sqlite3.Connection,
    clusters: Iterable[tuple[tuple[int, ...], int, dict[int, str]]],
    queue: Iterable[tuple[int, int, float, str]],
    *,
    started_at: str,
    n_records: int,
    settings: dict[str, object],
) -> int:
    """Replace the stored clusters and queue with a new run's; log the run and return its id."""
    conn.execute("DELETE FROM dedup_members")
    conn.execute("DELETE FROM dedup_queue")
    n_clusters = n_duplicates = 0
    for members, primary, reasons in clusters:
        write_cluster(conn, members, primary, reasons)
        n_clusters += 1
        n_duplicates += len(members) - 1
    cur = conn.execute(
        "INSERT INTO dedup_runs (started_at, finished_at, n_records, n_clusters, n_duplicates,"
        " n_queued, settings) VALUES (?, ?, ?, ?, ?, 0, ?)",
        (started_at, utc_now(), n_records, n_clusters, n_duplicates, json.dumps(settings)),
    )
    run_id = int(cur.lastrowid or 0)
    before = conn.total_changes
    conn.executemany(
        "INSERT INTO dedup_queue (record_a, record_b, score, reason, run_id)"
        " VALUES (?, ?, ?, ?, ?)",
        ((a, b, score, reason, run_id) for a, b, score, reason in queue),
    )
    conn.execute(
        "UPDATE dedup_runs SET n_queued = ? WHERE id = ?", (conn.total_changes - before, run_id)
    )
    return run_id


def queued_pairs(conn: sqlite3.Connection) -> list[tuple[int, int, float, str]]:
    """Uncertain pairs waiting for a person, most similar first."""
    return [
        (int(r[0]), int(r[1]), float(r[2]), str(r[3]))
        for r in conn.execute(
            "SELECT q.record_a, q.record_b, q.score, q.reason FROM dedup_queue q"
            " JOIN records ra ON ra.id = q.record_a JOIN records rb ON rb.id = q.record_b"
            " WHERE ra.deleted_at IS NULL AND rb.deleted_at IS NULL"
            " ORDER BY q.score DESC, q.record_a, q.record_b"
        )
    ]


def drop_queued(conn: sqlite3.Connection, pair: tuple[int, int]) -> None:
    """Remove one pair from the queue."""
    conn.execute("DELETE FROM dedup_queue WHERE record_a = ? AND record_b = ?", pair)


def drop_settled(conn: sqlite3.Connection) -> int:
    """Remove queued pairs whose records are now in the same cluster; return how many."""
    before = conn.total_changes
    conn.execute(
        "DELETE FROM dedup_queue WHERE"
        " COALESCE((SELECT cluster_id FROM dedup_members WHERE record_id = record_a), record_a)"
        " = COALESCE((SELECT cluster_id FROM dedup_members WHERE record_id = record_b), record_b)"
    )
    return conn.total_changes - before


def membership_rows(conn: sqlite3.Connection) -> list[tuple[str, str | None, int, bool, int]]:
    """(source, source_id, cluster id, is_primary, record id) for every live record, in
    record id order."""
    membership = cluster_membership(conn)
    rows = conn.execute(
        "SELECT id, source, source_id FROM records WHERE deleted_at IS NULL ORDER BY id"
    ).fetchall()
    return [
        (r["source"], r["source_id"], *membership[int(r["id"])], int(r["id"]))
        for r in rows
        if int(r["id"]) in membership
    ]


def dedup_counts(conn: sqlite3.Connection) -> DedupCounts:
    """PRISMA identification counts from the store: records per source (live records),
    duplicates removed (live records that are not the primary of their cluster), records
    after deduplication, clusters of two or more and pairs still waiting for a person."""
    per_source = tuple(
        (str(r[0]), int(r[1]))
        for r in conn.execute(
            "SELECT source, COUNT(*) FROM records WHERE deleted_at IS NULL"
            " GROUP BY source ORDER BY source"
        )
    )
    membership = cluster_membership(conn)
    identified = len(membership)
    primaries = sum(1 for _, is_primary in membership.values() if is_primary)
    sizes: dict[int, int] = defaultdict(int)
    for cluster_id, _ in membership.values():
        sizes[cluster_id] += 1
    return DedupCounts(
        per_source=per_source,
        records_identified=identified,
        duplicates_removed=identified - primaries,
        records_after_dedup=primaries,
        clusters=sum(1 for n in sizes.values() if n > 1),
        pairs_queued=len(queued_pairs(conn)),
    )


def member_reasons(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    """Why each of these records joined its cluster (records in no cluster are left out)."""
    wanted = sorted(set(ids))
    marks = ", ".join("?" * len(wanted))
    return {
        int(r[0]): str(r[1])
        for r in conn.execute(
            f"SELECT record_id, reason FROM dedup_members WHERE record_id IN ({marks})", wanted
        )
    }
