-- Core schema: protocol versions, loads (each search run or file import) and records.

CREATE TABLE protocol_versions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('original', 'amendment')),
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    text        TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- One row per search run or file import: how records came into the review.
CREATE TABLE loads (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('search', 'file')),
    source      TEXT NOT NULL,
    file_name   TEXT,
    sha256      TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    n_read      INTEGER NOT NULL DEFAULT 0,
    n_new       INTEGER NOT NULL DEFAULT 0,
    details     TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE records (
    id                INTEGER PRIMARY KEY,
    load_id           INTEGER NOT NULL REFERENCES loads(id),
    source            TEXT NOT NULL,
    source_id         TEXT,
    title             TEXT,
    abstract          TEXT,
    authors           TEXT NOT NULL DEFAULT '[]',
    journal           TEXT,
    journal_iso       TEXT,
    year              INTEGER,
    volume            TEXT,
    issue             TEXT,
    pages             TEXT,
    doi               TEXT,
    pmid              TEXT,
    pmcid             TEXT,
    issn              TEXT,
    language          TEXT,
    record_type       TEXT,
    url               TEXT,
    publication_types TEXT NOT NULL DEFAULT '[]',
    mesh              TEXT NOT NULL DEFAULT '[]',
    keywords          TEXT NOT NULL DEFAULT '[]',
    extra             TEXT NOT NULL DEFAULT '[]',
    raw               TEXT,
    deleted_at        TEXT,
    UNIQUE (source, source_id)
);

CREATE INDEX records_pmid ON records (pmid);
CREATE INDEX records_doi ON records (doi);
CREATE INDEX records_load ON records (load_id);
