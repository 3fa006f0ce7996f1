-- The layout of schema version 1: every table as agentaudit made it before stores carried a
-- version (the last such layout: commit b98b613). Frozen: migration 1 brings any older store up
-- to this, and later migrations go on from it. Never edit it; add a migration instead.

CREATE TABLE IF NOT EXISTS events (
    event_id VARCHAR, "source" VARCHAR, source_path VARCHAR, source_offset BIGINT,
    parser_version VARCHAR, ingested_at TIMESTAMPTZ, "time" TIMESTAMPTZ,
    time_precision VARCHAR, seq BIGINT, host VARCHAR, os_user VARCHAR, agent VARCHAR,
    agent_version VARCHAR, model VARCHAR, session_id VARCHAR, parent_session_id VARCHAR,
    tool_call_id VARCHAR, actor VARCHAR, credential_fp VARCHAR, secret_fps VARCHAR[],
    kind VARCHAR, tool_name VARCHAR, operation VARCHAR, command VARCHAR, cwd VARCHAR,
    paths VARCHAR[], url VARCHAR, "text" VARCHAR, "target" VARCHAR, target_env VARCHAR,
    env_evidence VARCHAR, status VARCHAR, exit_code INTEGER, "error" VARCHAR,
    destructive BOOLEAN, categories VARCHAR[], severity VARCHAR, "scope" VARCHAR,
    raw VARCHAR USING COMPRESSION ZSTD, credential_id VARCHAR, source_ip VARCHAR,
    user_agent VARCHAR, on_behalf_of VARCHAR, operation_id VARCHAR, repeat BOOLEAN
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id VARCHAR, "source" VARCHAR, source_path VARCHAR, line BIGINT,
    byte_offset BIGINT, reason VARCHAR, raw VARCHAR USING COMPRESSION ZSTD,
    parser_version VARCHAR, ingested_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS links (
    link_id VARCHAR, event_id VARCHAR, linked_event_id VARCHAR, session_id VARCHAR,
    reason VARCHAR, created_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS findings (
    finding_id VARCHAR, rule_id VARCHAR, title VARCHAR, severity VARCHAR, kind VARCHAR,
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, event_ids VARCHAR[], session_id VARCHAR,
    group_key VARCHAR, status VARCHAR, evidence VARCHAR, created_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS checkpoints (
    path VARCHAR PRIMARY KEY, collector VARCHAR, device BIGINT, inode BIGINT, size BIGINT,
    head_hash VARCHAR, byte_offset BIGINT, line BIGINT, updated_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, files INTEGER,
    ingested BIGINT, duplicate BIGINT, quarantined BIGINT
);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id VARCHAR PRIMARY KEY, group_key VARCHAR, title VARCHAR, severity VARCHAR,
    status VARCHAR, session_id VARCHAR, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ,
    finding_ids VARCHAR[], body VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    notified_at TIMESTAMPTZ, route VARCHAR, receiver VARCHAR, group_labels VARCHAR,
    next_flush_at TIMESTAMPTZ, last_activity_at TIMESTAMPTZ, acknowledged_at TIMESTAMPTZ,
    acknowledged_by VARCHAR, resolved_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id VARCHAR, alert_id VARCHAR, "target" VARCHAR, attempt INTEGER, ok BOOLEAN,
    detail VARCHAR, attempted_at TIMESTAMPTZ, outbox_id VARCHAR, receiver VARCHAR,
    "action" VARCHAR, status_code INTEGER, retryable BOOLEAN
);

CREATE TABLE IF NOT EXISTS alert_members (
    alert_id VARCHAR, fingerprint VARCHAR, rule_id VARCHAR, severity VARCHAR, labels VARCHAR,
    finding_ids VARCHAR[], state VARCHAR, silenced_by VARCHAR[], inhibited_by VARCHAR[],
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, starts_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ, PRIMARY KEY(alert_id, fingerprint)
);

CREATE TABLE IF NOT EXISTS notification_log (
    alert_id VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
    resolved VARCHAR[], PRIMARY KEY(alert_id, receiver)
);

CREATE TABLE IF NOT EXISTS silences (
    silence_id VARCHAR PRIMARY KEY, matchers VARCHAR, starts_at TIMESTAMPTZ,
    ends_at TIMESTAMPTZ, created_by VARCHAR, "comment" VARCHAR, created_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS outbox (
    outbox_id VARCHAR PRIMARY KEY, alert_id VARCHAR, receiver VARCHAR, target_id VARCHAR,
    "target" VARCHAR, "action" VARCHAR, payload VARCHAR, status VARCHAR, attempts INTEGER,
    next_attempt_at TIMESTAMPTZ, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    last_error VARCHAR
);

CREATE TABLE IF NOT EXISTS finding_log (
    seq BIGINT PRIMARY KEY, record_id VARCHAR, alert_id VARCHAR, activity_id INTEGER,
    "time" TIMESTAMPTZ, ocsf VARCHAR
);

CREATE TABLE IF NOT EXISTS export_cursors (
    "name" VARCHAR PRIMARY KEY, events_ingested_at TIMESTAMPTZ, events_event_id VARCHAR,
    finding_seq BIGINT, updated_at TIMESTAMPTZ
);
