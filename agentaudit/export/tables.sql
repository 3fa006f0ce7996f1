-- Export's tables. Registered in agentaudit/store/tables.py; a change to a table that stores
-- already have is a migration (docs/ARCHITECTURE.md, "Store and migrations").

-- the OCSF Detection Finding lifecycle (create/update/close), in order (written by
-- agentaudit/alert/engine.py as groups change; read by the exports)
CREATE TABLE IF NOT EXISTS finding_log (
    seq BIGINT PRIMARY KEY, record_id VARCHAR, alert_id VARCHAR, activity_id INTEGER,
    time TIMESTAMPTZ, ocsf VARCHAR
);

-- where each named export stopped (stream.py)
CREATE TABLE IF NOT EXISTS export_cursors (
    name VARCHAR PRIMARY KEY, events_ingested_at TIMESTAMPTZ, events_event_id VARCHAR,
    finding_seq BIGINT, updated_at TIMESTAMPTZ, checkpoint_no BIGINT
);
