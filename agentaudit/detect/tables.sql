-- Detection's table. Registered in agentaudit/store/tables.py; appended through
-- Store.append_findings (deduplicated on finding_id). A change to a table that stores already
-- have is a migration (docs/ARCHITECTURE.md, "Store and migrations").

CREATE TABLE IF NOT EXISTS findings (
    finding_id VARCHAR, rule_id VARCHAR, title VARCHAR, severity VARCHAR, kind VARCHAR,
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, event_ids VARCHAR[], session_id VARCHAR,
    group_key VARCHAR, status VARCHAR, evidence VARCHAR, created_at TIMESTAMPTZ
);
