"""SQL for deduplication: cluster membership, the queue of uncertain pairs, human decisions.

A cluster's id is the smallest record id among its members (stable across re-runs while
that record stays in it); a record in no stored cluster is its own singleton and primary.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict


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
