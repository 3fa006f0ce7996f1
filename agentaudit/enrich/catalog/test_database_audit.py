"""Database audit records of every shape are classified by the SQL they carry, through the
command analyser's SQL rules (samples: tests/data/providers/databases, FORMATS.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agentaudit.enrich import catalog
from agentaudit.enrich.catalog import database
from agentaudit.taxonomy import is_destructive

SAMPLES = Path(__file__).resolve().parents[3] / "tests/data/providers/databases"
# What the generated runs did (SOURCES.md): these statements destroy data, the rest do not.
DESTROYING = (
    "DELETE FROM ORDERS", "TRUNCATE", "DROP TABLE", "DROP DATABASE", "DROP SCHEMA",
)  # fmt: skip


def _destroys(statement: str) -> bool:
    # (a DROP of a missing table is still an attempt to destroy: the outcome is the record's
    # status, retcode 1051 in MariaDB's line, not its verdict)
    return statement.upper().lstrip().startswith(DESTROYING)


def _check(records: list[dict]) -> int:
    """Every record with SQL gets the verdict its statement deserves; the count of those."""
    seen = 0
    for record in records:
        statement = database.statement_of(record)
        if statement is None:
            continue
        seen += 1
        found = catalog.classify("database", "query", record)
        overwrite = statement.upper().startswith(("UPDATE", "PREPARE"))  # data_overwrite
        assert is_destructive(found) == _destroys(statement) or overwrite, (
            statement,
            found,
        )
        if _destroys(statement):
            assert "db_destroy" in found, statement
    return seen


@pytest.mark.parametrize(
    ("name", "statements"),
    [
        ("generated-pgaudit-1.7-pg15-stderr.log", 20),
        ("generated-pgaudit-1.7-pg15-stderr-rds-prefix.log", 9),
        ("generated-mariadb-10.11-server_audit.log", 19),
    ],
)
def test_log_lines(name, statements):
    lines = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    assert _check([{"line": line} for line in lines]) == statements


@pytest.mark.parametrize(
    ("name", "statements"),
    [("generated-pgaudit-1.7-pg15-csvlog.csv", 20), ("generated-pgaudit-1.7-pg15-csvlog-rds-run.csv", 9)],
)  # fmt: skip
def test_csvlog_message_column(name, statements):
    with (SAMPLES / name).open(encoding="utf-8", newline="") as fh:
        messages = [{"message": row[13]} for row in csv.reader(fh) if len(row) > 13]
    assert _check(messages) == statements


def test_json_shapes_cloud_sql_rds_activity_streams_and_mysql_audit_filter():
    cloudsql = [
        json.loads(line)
        for line in (SAMPLES / "cloudsql-pgaudit-data_access-logentries.ndjson")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    das = json.loads((SAMPLES / "rds-das-decrypted-aurora-postgresql.json").read_text())
    mysql = json.loads((SAMPLES / "mysql-audit-log-filter.json").read_text())
    assert _check(cloudsql) == 5
    assert _check(das["databaseActivityEventList"]) == 3
    assert _check(mysql) == 3
    encrypted = json.loads((SAMPLES / "rds-das-kinesis-record-outer.json").read_text())
    assert catalog.classify("database", "query", encrypted) == []  # nothing readable: no guess


def test_a_cloud_sql_drop_table_is_destructive_through_either_provider():
    entry = {
        "protoPayload": {
            "methodName": "cloudsql.instances.query",
            "request": {
                "@type": "type.googleapis.com/google.cloud.sql.audit.v1.PgAuditEntry",
                "statement": "DROP TABLE orders;",
            },
        }
    }
    assert catalog.classify("database", "cloudsql.instances.query", entry) == ["db_destroy"]
    assert catalog.classify("gcp", "cloudsql.instances.query", entry) == ["db_destroy"]
    assert catalog.classify("database", "query", raw=json.dumps(entry)) == ["db_destroy"]


@pytest.mark.parametrize(
    ("line", "statement"),
    [
        ('x LOG:  AUDIT: SESSION,3,1,DDL,DROP TABLE,,,"DROP TABLE a, b;",<none>', "DROP TABLE a, b;"),
        ("x LOG:  AUDIT: OBJECT,4,1,READ,SELECT,TABLE,public.t,SELECT 1,<none>", "SELECT 1"),
        ("20261207 18:19:07,vm,a,h,7,20,QUERY,shop,'DELETE FROM t WHERE n = \\'x\\'',0",
         "DELETE FROM t WHERE n = 'x'"),
        ("20261207 18:19:02,vm,root,localhost,3,0,CONNECT,,,0", None),
        ("LOG:  connection authorized: user=app", None),
    ],
)  # fmt: skip
def test_statement_of_line(line, statement):
    assert database.statement_of_line(line) == statement
