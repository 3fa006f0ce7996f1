"""Cloud SQL pgAudit entries: the SQL statement inside decides, classified once at enrichment."""

import json

import pytest

from agentaudit.enrich import catalog
from agentaudit.enrich.event import enrich


def _pgaudit(statement: str, command: str = "") -> str:
    """A Cloud Logging entry as `gcloud logging read --format=json` prints a pgAudit record."""
    return json.dumps(
        {
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "serviceName": "cloudsql.googleapis.com",
                "methodName": "cloudsql.instances.query",
                "resourceName": "instances/orders-pg",
                "request": {
                    "@type": "type.googleapis.com/google.cloud.sql.audit.v1.PgAuditEntry",
                    "auditClass": "DDL",
                    "command": command or statement.split()[0].upper(),
                    "database": "shop",
                    "statement": statement,
                    "user": "app",
                },
            },
            "resource": {"type": "cloudsql_database"},
            "logName": "projects/shop-prod/logs/cloudaudit.googleapis.com%2Fdata_access",
        }
    )


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE invoices;",
        "drop table if exists public.customers cascade",
        "TRUNCATE TABLE orders;",
        "TRUNCATE line_items, orders",
        "DROP DATABASE shop;",
        "DELETE FROM sessions;",
    ],
)
def test_destroying_statement_in_a_pgaudit_record_fires(statement):
    assert catalog.classify("gcp", "cloudsql.instances.query", raw=_pgaudit(statement)) == [
        "db_destroy"
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM orders;",
        "INSERT INTO orders SELECT * FROM orders_staging;",
        "DELETE FROM sessions WHERE expires_at < now();",
        "DROP TABLE tmp_import_4821;",
        "DROP TABLE IF EXISTS test_orders;",
        "DROP TABLE pg_temp_3.batch;",
        "TRUNCATE TABLE orders_scratch;",
    ],
)
def test_reading_or_scratch_statement_in_a_pgaudit_record_is_allowed(statement):
    assert catalog.classify("gcp", "cloudsql.instances.query", raw=_pgaudit(statement)) == []


def test_enrichment_marks_the_pgaudit_record_destructive(redactor):
    event = enrich(
        {
            "source": "gcp.audit",
            "kind": "api",
            "operation": "cloudsql.instances.query",
            "raw": _pgaudit("TRUNCATE TABLE orders;"),
        },
        redactor,
    )
    assert event["destructive"] is True
    assert event["categories"] == ["db_destroy"]
    assert event["severity"] == "high"
