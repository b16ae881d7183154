-- PubMed search runs: what PRISMA-S asks to report, and the state a killed run resumes from.
-- The common part (times, status, counts, file name and sha256 of a loaded file) lives in
-- `loads` (kind = 'search'); this table holds the rest, one row per search load.

CREATE TABLE search_runs (
    load_id           INTEGER PRIMARY KEY REFERENCES loads(id),
    mode              TEXT NOT NULL CHECK (mode IN ('eutils', 'file')),
    database          TEXT NOT NULL DEFAULT 'pubmed',
    query             TEXT,
    query_translation TEXT,
    count             INTEGER,
    warnings          TEXT NOT NULL DEFAULT '[]',
    mindate           TEXT,
    maxdate           TEXT,
    datetype          TEXT CHECK (datetype IN ('pdat', 'edat', 'mdat')),
    webenv            TEXT,
    query_key         TEXT,
    windows           TEXT NOT NULL DEFAULT '[]',
    batch_size        INTEGER,
    error             TEXT,
    resumed           INTEGER NOT NULL DEFAULT 0
);

-- The PMIDs a run found, in PubMed's order, and how far fetching them got.
-- 'known' PMIDs were already in the review when the run found them; 'missing' ones were
-- listed by ESearch but not returned by EFetch.
CREATE TABLE search_pmids (
    load_id  INTEGER NOT NULL REFERENCES loads(id),
    position INTEGER NOT NULL,
    pmid     TEXT NOT NULL,
    state    TEXT NOT NULL DEFAULT 'pending'
             CHECK (state IN ('pending', 'fetched', 'known', 'missing')),
    PRIMARY KEY (load_id, pmid)
);

CREATE INDEX search_pmids_pending ON search_pmids (load_id, state, position);
