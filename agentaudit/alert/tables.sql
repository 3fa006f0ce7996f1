-- Alerting's tables (agentaudit/alert/). Registered in agentaudit/store/tables.py; a change to
-- a table that stores already have is a migration (docs/ARCHITECTURE.md, "Store and
-- migrations").

-- one row per incident (its incident_by labels), with its state (membership.py, lifecycle.py)
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

-- the alerts of each incident, one per fingerprint (labels); ends_at: last posted +
-- resolve_timeout (membership.py)
CREATE TABLE IF NOT EXISTS alert_members (
    alert_id VARCHAR, fingerprint VARCHAR, rule_id VARCHAR, severity VARCHAR, labels VARCHAR,
    finding_ids VARCHAR[], state VARCHAR, silenced_by VARCHAR[], inhibited_by VARCHAR[],
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, starts_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    ends_at TIMESTAMPTZ,
    PRIMARY KEY (alert_id, fingerprint)
);

-- Alertmanager's aggregation groups (route + group labels) and their timers (grouping.py)
CREATE TABLE IF NOT EXISTS alert_groups (
    group_id VARCHAR PRIMARY KEY, group_key VARCHAR, route VARCHAR, receiver VARCHAR,
    alert_id VARCHAR, group_labels VARCHAR, created_at TIMESTAMPTZ, next_flush_at TIMESTAMPTZ,
    flushed_at TIMESTAMPTZ
);

-- the alerts (fingerprints) in each group
CREATE TABLE IF NOT EXISTS alert_group_members (
    group_id VARCHAR, fingerprint VARCHAR, PRIMARY KEY (group_id, fingerprint)
);

-- what each receiver was last told about each old-style group, before schema version 2; not
-- read since (nflog replaced it), kept because a migration keeps every row
CREATE TABLE IF NOT EXISTS notification_log (
    alert_id VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
    resolved VARCHAR[], PRIMARY KEY (alert_id, receiver)
);

-- Alertmanager's notification log: what each receiver was last told about each group key
-- (dispatch.py)
CREATE TABLE IF NOT EXISTS nflog (
    group_key VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
    resolved VARCHAR[], expires_at TIMESTAMPTZ, PRIMARY KEY (group_key, receiver)
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
