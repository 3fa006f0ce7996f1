-- Ingest's own tables (the events, quarantine and links it appends are the store core's:
-- agentaudit/store/tables.py). Registered in agentaudit/store/tables.py; a change to a table
-- that stores already have is a migration (docs/ARCHITECTURE.md, "Store and migrations").

-- where each append-only source file was read up to (one row per file)
CREATE TABLE IF NOT EXISTS checkpoints (
    path VARCHAR PRIMARY KEY, collector VARCHAR, device BIGINT, inode BIGINT, size BIGINT,
    head_hash VARCHAR, byte_offset BIGINT, line BIGINT, updated_at TIMESTAMPTZ
);

-- one row per `ingest` run, with its counts
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, files INTEGER,
    ingested BIGINT, duplicate BIGINT, quarantined BIGINT
);
