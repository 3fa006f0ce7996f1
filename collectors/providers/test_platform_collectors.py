"""Issue 19's platform audit collectors on tests/data/providers (see its SOURCES.md: most files
are written from the vendors' published formats, not captured live; the pgAudit and MariaDB
logs are real program output). Each test checks the columns a platform fills (actor,
credential id, IP, user agent, target, outcome) and which records enrichment marks destructive.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentaudit.collectors import sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich.event import enrich
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "providers"

# file -> (collector it is sniffed as, events, operations enrichment marks destructive)
FILES = {
    "vercel/otelcc-audit-drain-full.json": ("vercel.audit", 1, set()),
    "vercel/otelcc-audit-drain-docs-example.ndjson": ("vercel.audit", 2, set()),
    "vercel/otelcc-audit-drain-multi-project.json": ("vercel.audit", 3, set()),
    "vercel/rest-v3-events-page1.json": (
        "vercel.audit", 2, {"project-env-variable.deleted", "domain-delete"},
    ),
    "vercel/rest-v3-events-page2.json": ("vercel.audit", 2, {"project-delete"}),
    "cloudflare/audit-logs-v1-api-page1.json": ("cloudflare.audit", 2, {"dns_record.rec_del"}),
    "cloudflare/audit-logs-v1-api-page2.json": (
        "cloudflare.audit", 2, {"zone.delete", "api_token.token_revoke"},
    ),
    "cloudflare/audit-logs-v2-api-page1.json": ("cloudflare.audit", 2, {"dns_records.delete"}),
    "cloudflare/audit-logs-v2-api-page2.json": (
        "cloudflare.audit", 3, {"workers.delete", "r2.delete", "logpush.delete"},
    ),
    "cloudflare/logpush-audit_logs.ndjson": (
        "cloudflare.audit", 4, {"dns_record.rec_del", "zone.delete", "api_token.token_revoke"},
    ),
    "cloudflare/logpush-audit_logs_v2.ndjson": (
        "cloudflare.audit", 5,
        {"dns_records.delete", "workers.delete", "r2.delete", "logpush.delete"},
    ),
    "gitlab/audit-events-api-instance-page1.json": (
        "gitlab.audit", 2, {"project_archived", "ci_variable_deleted"},
    ),
    "gitlab/audit-events-api-instance-page2.json": (
        "gitlab.audit", 3,
        {"project_deletion_marked", "project_destroyed", "destroy_instance_event_streaming_destination"},
    ),
    "gitlab/streaming-audit-events.ndjson": (
        "gitlab.audit", 6,
        {"project_archived", "ci_variable_deleted", "project_deletion_marked", "project_destroyed",
         "destroy_instance_event_streaming_destination"},
    ),
    "terraform-cloud/audit-trail-page1.json": ("terraform-cloud.audit", 2, {"run.create"}),
    "terraform-cloud/audit-trail-page2.json": (
        "terraform-cloud.audit", 3,
        {"run.apply", "workspace.destroy", "authentication_token.destroy"},
    ),
    "heroku/enterprise-events-day.json": ("heroku.audit", 3, {"addon.destroy", "app.destroy"}),
    "heroku/audit-trail-archive-2026-04.json": ("heroku.audit", 3, {"addon.destroy", "app.destroy"}),
    "supabase/auth-audit_log_entries-rows.ndjson": ("supabase.auth_audit", 3, {"user_deleted"}),
    "supabase/auth-audit_log_entries.csv": ("supabase.auth_audit", 3, {"user_deleted"}),
    "supabase/gotrue-auth_audit_event-log.ndjson": ("supabase.auth_audit", 1, {"user_deleted"}),
    "supabase/logs-all-auth-audit-page1.json": ("supabase.auth_audit", 2, {"user_deleted"}),
    "supabase/logs-all-auth-audit-page2.json": ("supabase.auth_audit", 1, set()),
    "azure-devops/auditlog-query-page1.json": (
        "azure-devops.audit", 2, {"Library.VariableGroupDeleted"},
    ),
    "azure-devops/auditlog-query-page2.json": (
        "azure-devops.audit", 4,
        {"Git.RepositoryDestroyed", "AuditLog.StreamDeleted", "Project.HardDeleteCompleted",
         "Token.PatRevokeEvent"},
    ),
    "cursor/admin-api-audit-logs-page1.json": ("cursor.audit", 3, {"team_hook.delete"}),
    "cursor/admin-api-audit-logs-page2.json": ("cursor.audit", 2, {"remove_user"}),
    "cursor/s3-layout/2026/04/24/audit-20260424T1400Z-0001.jsonl.gz": (
        "cursor.audit", 4, {"team_hook.delete"},
    ),
    "anthropic/compliance-activities-page1.json": (
        "anthropic.compliance", 3, {"org_compliance_api_settings_updated", "mcp_server_deleted"},
    ),
    "anthropic/compliance-activities-page2.json": (
        "anthropic.compliance", 3, {"service_key_revoked"},
    ),
    "github/copilot-agent-audit-events.ndjson": (
        "github.audit", 4, {"protected_branch.policy_override"},
    ),
    "github/copilot-api-usage-stream.ndjson": ("github.copilot_usage", 2, set()),
    "databases/generated-pgaudit-1.7-pg15-stderr.log": (
        "postgresql.pgaudit", 20, {"DELETE", "TRUNCATE TABLE", "DROP TABLE", "DROP DATABASE"},
    ),
    "databases/generated-pgaudit-1.7-pg15-csvlog.csv": (
        "postgresql.pgaudit", 20, {"DELETE", "TRUNCATE TABLE", "DROP TABLE", "DROP DATABASE"},
    ),
    "databases/generated-pgaudit-1.7-pg15-stderr-rds-prefix.log": (
        "postgresql.pgaudit", 9, {"UPDATE", "DROP TABLE", "DROP SCHEMA"},
    ),
    "databases/generated-mariadb-10.11-server_audit.log": (
        "mysql.server_audit", 35, {"DELETE FROM", "TRUNCATE TABLE", "DROP TABLE", "DROP DATABASE"},
    ),
    "databases/mysql-audit-log-filter.json": (
        "mysql.audit_filter", 5, {"DELETE FROM", "DROP TABLE", "DROP DATABASE"},
    ),
    "databases/rds-das-decrypted-aurora-postgresql.json": (
        "aws.rds_activity", 3, {"DELETE FROM", "DROP TABLE"},
    ),
    "databases/cloudsql-pgaudit-data_access-logentries.ndjson": (
        "gcp.audit", 5, {"cloudsql.instances.query"},
    ),
}  # fmt: skip


def collected(relative: str) -> tuple[str, list]:
    path = DATA / relative
    collector = sniff_collector(path, path.read_bytes()[:4096])
    assert collector is not None, f"no collector sniffed {relative}"
    with path.open("rb") as fh:
        return collector.name, list(collector.collect(SourceInput(str(path), fh)))


def events_of(relative: str, redactor) -> list[dict]:
    _, outputs = collected(relative)
    return [enrich(o, redactor) for o in outputs if isinstance(o, dict)]


@pytest.mark.parametrize("relative", sorted(FILES))
def test_each_sample_is_sniffed_read_whole_and_classified(relative, redactor):
    collector, count, destructive = FILES[relative]
    name, outputs = collected(relative)
    events = [enrich(o, redactor) for o in outputs if isinstance(o, dict)]
    assert name == collector
    assert (len(events), len(outputs) - len(events)) == (count, 0)
    assert all(e["time"] is not None and e["operation"] for e in events)
    assert {e["operation"] for e in events if e["destructive"]} == destructive
    assert all(e["origin"] == "provider" and e["provider"] for e in events)


@pytest.mark.parametrize(
    "relative",
    ["heroku/archives-list.json", "vercel/otelcc-log-drain.ndjson"],
)
def test_files_that_are_no_audit_log_are_not_claimed(relative):
    path = DATA / relative
    collector = sniff_collector(path, path.read_bytes()[:4096])
    assert collector is None or collector.origin != "provider" or collector.vendor not in (
        "heroku", "vercel",
    )  # fmt: skip


def by_operation(events: list[dict], operation: str) -> dict:
    return next(e for e in events if e["operation"] == operation)


def test_vercel_drain_maps_token_ip_user_agent_and_the_app_acting(redactor):
    (event,) = events_of("vercel/otelcc-audit-drain-full.json", redactor)
    assert (event["actor"], event["credential_id"], event["source_ip"]) == (
        "full-user@example.com", "token_full", "203.0.113.10",
    )  # fmt: skip
    assert event["user_agent"].startswith("Mozilla/5.0") and event["target"] == "prj_full"
    assert event["tool_name"] == "vercel via Full App"
    assert event["time"].isoformat() == "2026-05-22T10:00:00.123000+00:00"  # epoch ms kept


def test_vercel_env_variable_removed_from_production_is_on_production(redactor):
    events = events_of("vercel/rest-v3-events-page1.json", redactor)
    removed = by_operation(events, "project-env-variable.deleted")
    assert removed["categories"] == ["config_delete"] and removed["target_env"] == "production"


def test_cloudflare_v2_token_status_and_failed_attempt(redactor):
    events = events_of("cloudflare/audit-logs-v2-api-page2.json", redactor)
    r2 = by_operation(events, "r2.delete")
    assert r2["status"] == "failure" and r2["destructive"]  # an attempt, refused
    logpush = by_operation(events, "logpush.delete")
    assert logpush["categories"] == ["audit_tamper"]
    assert logpush["credential_id"] == "ed17574386854bf78a67040be0a770b0"
    assert (logpush["source_ip"], logpush["user_agent"]) == ("203.0.113.7", "curl/8.5.0")


def test_cloudflare_api_and_logpush_shapes_agree(redactor):
    """The same v2 events read from the API pages and from Logpush give the same columns."""
    columns = ("operation", "actor", "credential_id", "source_ip", "user_agent", "status", "time")
    api = [
        *events_of("cloudflare/audit-logs-v2-api-page1.json", redactor),
        *events_of("cloudflare/audit-logs-v2-api-page2.json", redactor),
    ]
    logpush = events_of("cloudflare/logpush-audit_logs_v2.ndjson", redactor)
    assert [tuple(e[c] for c in columns) for e in api] == [
        tuple(e[c] for c in columns) for e in logpush
    ]


def test_gitlab_deploy_key_and_audit_stream_removal(redactor):
    events = events_of("gitlab/streaming-audit-events.ndjson", redactor)
    push = by_operation(events, "repository_git_operation")
    assert push["tool_name"] == "gitlab DeployKey" and not push["destructive"]
    removed = by_operation(events, "destroy_instance_event_streaming_destination")
    assert removed["categories"] == ["audit_tamper"] and removed["source_ip"] == "198.51.100.14"


def test_terraform_destroy_run_and_token_accessor(redactor):
    events = events_of("terraform-cloud/audit-trail-page2.json", redactor)
    assert by_operation(events, "run.apply")["categories"] == ["infra_destroy"]
    workspace = by_operation(events, "workspace.destroy")
    assert set(workspace["categories"]) == {"cloud_delete", "backup_destroy"}
    assert workspace["operation_id"]  # request.id groups one API call


def test_supabase_row_csv_and_gotrue_line_agree(redactor):
    rows = events_of("supabase/auth-audit_log_entries-rows.ndjson", redactor)
    csv_rows = events_of("supabase/auth-audit_log_entries.csv", redactor)
    (line,) = events_of("supabase/gotrue-auth_audit_event-log.ndjson", redactor)
    assert [e["event_id"] for e in rows] == [e["event_id"] for e in csv_rows]
    deleted = by_operation(rows, "user_deleted")
    assert (deleted["actor"], deleted["source_ip"]) == ("service_role", "198.51.100.40")
    assert line["event_id"] == deleted["event_id"]  # the same audit entry, one row when stored
    assert line["user_agent"] == "supabase-py/2.15.0"
    assert not by_operation(rows, "token_revoked")["destructive"]  # every refresh revokes
    pulled = events_of("supabase/logs-all-auth-audit-page1.json", redactor)  # pull supabase
    pulled += events_of("supabase/logs-all-auth-audit-page2.json", redactor)
    assert [e["event_id"] for e in pulled] == [e["event_id"] for e in rows]
    assert by_operation(pulled, "user_deleted")["user_agent"] == "supabase-py/2.15.0"


def test_a_supabase_logs_explorer_row_that_is_not_a_gotrue_line_is_quarantined(tmp_path, redactor):
    from agentaudit.collectors.base import SourceInput
    from agentaudit.collectors.providers.supabase import SupabaseAuthAudit
    from agentaudit.schema import Quarantined

    rows = [
        {"id": "a", "timestamp": 1777039380500000, "event_message": "not json"},
        {
            "id": "b",
            "timestamp": 1777039380500000,
            "event_message": '{"msg": "ok", "level": "info"}',
        },
    ]
    path = tmp_path / "rows.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = list(SupabaseAuthAudit().collect(SourceInput.from_bytes(str(path), path.read_bytes())))
    assert [o.reason for o in out if isinstance(o, Quarantined)] == ["event_message is not JSON"]
    assert len(out) == 1  # the request log line is no audit record: skipped


def test_azure_devops_correlation_and_pat(redactor):
    events = events_of("azure-devops/auditlog-query-page2.json", redactor)
    destroyed = by_operation(events, "Git.RepositoryDestroyed")
    assert destroyed["tool_name"] == "azure-devops PAT" and destroyed["operation_id"]
    assert destroyed["time"].isoformat().startswith("2026-04-24T14:02:40")


def test_cursor_s3_event_type_is_the_extra_key(redactor):
    events = events_of("cursor/s3-layout/2026/04/24/audit-20260424T1400Z-0001.jsonl.gz", redactor)
    assert [e["operation"] for e in events] == [
        "user_api_key.create", "cloud_agent_secret.create", "team_hook.delete",
        "mcp_server_config.create",
    ]  # fmt: skip
    assert by_operation(events, "user_api_key.create")["credential_id"] == "key_user_7f3a"
    assert by_operation(events, "team_hook.delete")["categories"] == ["protection_disable"]


def test_anthropic_api_actor_is_its_key_and_failures_are_failures(redactor):
    events = events_of("anthropic/compliance-activities-page2.json", redactor)
    failed = by_operation(events, "claude_chat_access_failed")
    assert failed["status"] == "failure" and failed["credential_id"] == failed["actor"]
    created = by_operation(events, "claude_chat_created")
    assert created["user_agent"].startswith("claude-cli/")


def test_panther_anthropic_tests_alerting_records_are_destructive_or_tamper(redactor):
    """Panther's rule tests say which activities should alert; those that destroy, revoke or
    weaken a control are marked destructive here (others alert on who, not on what)."""
    path = DATA / "anthropic/panther-anthropic-activity-tests.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    events = events_of("anthropic/panther-anthropic-activity-tests.jsonl", redactor)
    assert len(events) == len(rows) == 38
    destroying = ("_deleted", "_revoked", "_deactivated", "_toggled")
    for row, event in zip(rows, events, strict=True):
        if row["expected_alert"] and row["log"]["type"].endswith(destroying):
            assert event["destructive"], row["test_name"]
        if not row["expected_alert"] and row["log"]["type"].endswith("_created"):
            assert not event["destructive"], row["test_name"]


def test_pgaudit_sql_run_through_psql_is_seen_with_who_and_from_where(redactor):
    """What an agent ran through `psql` as seen by the server: the session's user, database,
    client and application_name from the connection line, the SQL classified by statement."""
    events = events_of("databases/generated-pgaudit-1.7-pg15-stderr-rds-prefix.log", redactor)
    drop = by_operation(events, "DROP SCHEMA")
    assert (drop["actor"], drop["user_agent"], drop["source_ip"]) == ("admin", "psql", "127.0.0.1")
    assert drop["categories"] == ["db_destroy"] and drop["target_env"]
    worker_update = [e for e in events if e["user_agent"] == "billing-worker"]
    assert worker_update and not any(e["destructive"] for e in worker_update)
    stderr = events_of("databases/generated-pgaudit-1.7-pg15-stderr.log", redactor)
    csvlog = events_of("databases/generated-pgaudit-1.7-pg15-csvlog.csv", redactor)
    columns = ("operation", "actor", "user_agent", "destructive", "categories")
    assert [tuple(e[c] for c in columns) for e in stderr] == [
        tuple(e[c] for c in columns) for e in csvlog
    ]
    guarded = [e for e in stderr if e["operation"] == "UPDATE"]
    assert guarded and not any(e["destructive"] for e in guarded)  # UPDATE ... WHERE id = $2


def test_mariadb_failures_and_masked_passwords(redactor):
    events = events_of("databases/generated-mariadb-10.11-server_audit.log", redactor)
    failed_login = by_operation(events, "FAILED_CONNECT")
    assert failed_login["status"] == "failure" and failed_login["kind"] == "auth"
    unknown_table = [e for e in events if e["error"] == "error 1051"]
    assert unknown_table and unknown_table[0]["operation"] == "DROP TABLE"
    assert all("*****" in e["raw"] for e in events if e["operation"] == "CREATE USER")


def test_cloud_sql_pgaudit_actor_is_the_database_user(redactor):
    events = events_of("databases/cloudsql-pgaudit-data_access-logentries.ndjson", redactor)
    assert {e["actor"] for e in events} == {"admin"}
    assert [e["destructive"] for e in events] == [False, True, True, True, True]


def test_bad_records_are_quarantined_one_each(redactor, tmp_path):
    path = tmp_path / "vercel-drain.ndjson"
    good = (DATA / "vercel/otelcc-audit-drain-docs-example.ndjson").read_text().splitlines()
    path.write_text("\n".join([good[0], "{not json", '{"schema": "other"}', good[1]]) + "\n")
    name, outputs = collected(str(path))
    assert name == "vercel.audit"
    quarantined = [o for o in outputs if not isinstance(o, dict)]
    assert len(outputs) - len(quarantined) == 2
    assert [q.line for q in quarantined] == [2, 3]


def test_ingested_into_a_store_once(store, redactor, tmp_path):
    """Through the real ingest path into DuckDB: every platform's pages, twice, one row each."""
    paths = [DATA / relative for relative in FILES if not relative.startswith("databases/cloudsql")]
    first = ingest_paths(store, paths, redactor=redactor)
    again = ingest_paths(store, paths, redactor=redactor)
    assert first.quarantined == 0 and again.ingested == 0
    stored = store.con.execute(
        "SELECT count(*), count(DISTINCT source) FROM events WHERE destructive"
    ).fetchone()
    assert stored[0] > 30 and stored[1] == 14  # 11 platforms, two MySQL formats, RDS, GitHub


def test_copilot_usage_request_and_response_join_and_the_prompt_is_text(redactor):
    request, response = events_of("github/copilot-api-usage-stream.ndjson", redactor)
    assert (request["kind"], request["agent"], request["actor"]) == (
        "message",
        "copilot",
        "5550001",
    )
    assert "delete the staging volume" in request["text"]
    assert request["tool_call_id"] == response["tool_call_id"]
    assert request["operation"] == "request /chat/completions"


def test_rds_activity_stream_statement_with_who_and_an_encrypted_record_says_what_to_do(redactor):
    events = events_of("databases/rds-das-decrypted-aurora-postgresql.json", redactor)
    delete = by_operation(events, "DELETE FROM")
    assert (delete["actor"], delete["source_ip"], delete["user_agent"]) == (
        "admin", "10.0.12.34", "psql",
    )  # fmt: skip
    assert delete["categories"] == ["db_destroy"]
    name, outputs = collected("databases/rds-das-kinesis-record-outer.json")
    (quarantined,) = outputs
    assert (
        name == "aws.rds_activity" and "decrypt it with the stream's KMS key" in quarantined.reason
    )
