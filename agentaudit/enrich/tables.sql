-- Enrichment's own table. Registered in agentaudit/store/tables.py; a change to a table that
-- stores already have is a migration (docs/ARCHITECTURE.md, "Store and migrations").

-- one row per `reclassify` run: rows examined and changed, changes per column (JSON)
CREATE TABLE IF NOT EXISTS reclassify_runs (
    run_id VARCHAR, ran_at TIMESTAMPTZ, examined BIGINT, changed_rows BIGINT, changed VARCHAR
);
