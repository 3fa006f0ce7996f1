-- Alerting's tables (agentaudit/alert/). Registered in agentaudit/store/tables.py; a change to
-- a table that stores already have is a migration (docs/ARCHITECTURE.md, "Store and
-- migrations").

-- one row per alert group (group key), with its state (engine.py)
CREATE TABLE IF NOT EXISTS alerts (
    alert_id VARCHAR PRIMARY KEY, group_key VARCHAR, title VARCHAR, severity VARCHAR,
    status VARCHAR, session_id VARCHAR, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ,
    finding_ids VARCHAR[], body VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    notified_at TIMESTAMPTZ,
    route VARCHAR, receiver VARCHAR, group_labels VARCHAR, next_flush_at TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ, acknowledged_at TIMESTAMPTZ, acknowledged_by VARCHAR,
    resolved_at TIMESTAMPTZ
);

-- every delivery attempt (delivery/outbox.py, delivery/testsend.py)
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id VARCHAR, alert_id VARCHAR, target VARCHAR, attempt INTEGER, ok BOOLEAN,
    detail VARCHAR, attempted_at TIMESTAMPTZ,
    outbox_id VARCHAR, receiver VARCHAR, action VARCHAR, status_code INTEGER, retryable BOOLEAN
);

-- the members of each group, one per fingerprint
CREATE TABLE IF NOT EXISTS alert_members (
    alert_id VARCHAR, fingerprint VARCHAR, rule_id VARCHAR, severity VARCHAR, labels VARCHAR,
    finding_ids VARCHAR[], state VARCHAR, silenced_by VARCHAR[], inhibited_by VARCHAR[],
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, starts_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    PRIMARY KEY (alert_id, fingerprint)
);

-- what each receiver was last told about each group (dedup of repeats)
CREATE TABLE IF NOT EXISTS notification_log (
    alert_id VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
    resolved VARCHAR[], PRIMARY KEY (alert_id, receiver)
);

CREATE TABLE IF NOT EXISTS silences (
    silence_id VARCHAR PRIMARY KEY, matchers VARCHAR, starts_at TIMESTAMPTZ,
    ends_at TIMESTAMPTZ, created_by VARCHAR, comment VARCHAR, created_at TIMESTAMPTZ
);

-- notifications waiting to be sent or retried
CREATE TABLE IF NOT EXISTS outbox (
    outbox_id VARCHAR PRIMARY KEY, alert_id VARCHAR, receiver VARCHAR, target_id VARCHAR,
    target VARCHAR, action VARCHAR, payload VARCHAR, status VARCHAR, attempts INTEGER,
    next_attempt_at TIMESTAMPTZ, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    last_error VARCHAR
);
