-- Deduplication: clusters link records, never delete them; human decisions are events.
--
-- A cluster's id is the smallest record id among its members, so it stays the same across
-- re-runs as long as that record stays in it. A record with no row in dedup_members is its
-- own singleton cluster (id = its record id) and its primary.

-- One row per run of `casepool dedup` (the automatic clustering).
CREATE TABLE dedup_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    n_records    INTEGER NOT NULL,
    n_clusters   INTEGER NOT NULL,
    n_duplicates INTEGER NOT NULL,
    n_queued     INTEGER NOT NULL,
    settings     TEXT NOT NULL DEFAULT '{}'
);

-- Current membership of every record that belongs to a cluster of two or more.
CREATE TABLE dedup_members (
    record_id  INTEGER PRIMARY KEY REFERENCES records(id),
    cluster_id INTEGER NOT NULL REFERENCES records(id),
    is_primary INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    reason     TEXT NOT NULL
);
CREATE INDEX dedup_members_cluster ON dedup_members (cluster_id);

-- Uncertain pairs waiting for a person (`casepool dedup review`); record_a < record_b.
CREATE TABLE dedup_queue (
    record_a INTEGER NOT NULL REFERENCES records(id),
    record_b INTEGER NOT NULL REFERENCES records(id),
    score    REAL NOT NULL,
    reason   TEXT NOT NULL,
    run_id   INTEGER REFERENCES dedup_runs(id),
    PRIMARY KEY (record_a, record_b),
    CHECK (record_a < record_b)
);

-- Human decisions, append-only: never updated or deleted, replayed in id order on every run.
-- 'merge' and 'keep_apart' name a pair (record_a < record_b); 'undo' names the cluster and
-- lists its members at that moment (JSON array of record ids).
CREATE TABLE dedup_decisions (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('merge', 'keep_apart', 'undo')),
    record_a   INTEGER REFERENCES records(id),
    record_b   INTEGER REFERENCES records(id),
    cluster_id INTEGER,
    members    TEXT NOT NULL DEFAULT '[]',
    decided_at TEXT NOT NULL,
    CHECK (kind = 'undo' OR (record_a IS NOT NULL AND record_b IS NOT NULL AND record_a < record_b))
);
