"""Database audit records, classified by the SQL they carry (the command analyser's SQL rules).

One function for every shape a database writes its audit trail in (FORMATS.md, "Databases"):
pgAudit lines (`AUDIT: SESSION,4,1,DDL,DROP TABLE,,,DROP TABLE orders;,<none>`, in stderr,
csvlog `message` or RDS's prefix), Cloud SQL / AlloyDB pgAudit entries (`request.statement`),
RDS and Aurora Database Activity Streams events (`commandText`), MariaDB's audit plugin lines
(also RDS MySQL's `server_audit.log`) and MySQL Enterprise / Percona audit-filter JSON
(`general_data.query`). A collector passes the record (a dict, or the line as `{"line": ...}`);
the platform collectors call `catalog.classify("database", operation, record)`.
"""

from __future__ import annotations

import csv
import re
from typing import Any

from agentaudit.enrich.commands.programs.db import statement_categories

_PGAUDIT = re.compile(r"AUDIT: (?:SESSION|OBJECT),(.*)$", re.S)
_MARIADB = re.compile(
    r"^\d{8} \d\d:\d\d:\d\d,[^,]*,[^,]*,[^,]*,\d+,\d+,(?:QUERY\w*),[^,]*,'(.*)',\d+\s*$", re.S
)


def needs_record(operation: str) -> bool:
    return True  # the statement is in the record, whatever the operation is called


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    statement = statement_of(record)
    return statement_categories(statement) if statement else []


def statement_of(record: dict[str, Any]) -> str | None:
    """The SQL text of one database audit record, None when it carries none (a connect)."""
    for found in (
        _dig(record, "protoPayload", "request", "statement"),  # Cloud SQL / AlloyDB pgAudit
        _dig(record, "request", "statement"),
        record.get("commandText"),  # RDS Database Activity Streams event
        *_section_queries(record),  # MySQL / Percona audit log filter: general_data.query
        record.get("statement"),
    ):
        if isinstance(found, str) and found.strip():
            return found
    for key in ("line", "message"):  # a log line, or csvlog's message column
        text = record.get(key)
        if isinstance(text, str):
            return statement_of_line(text)
    return None


def statement_of_line(line: str) -> str | None:
    """The SQL of a pgAudit line or a MariaDB audit plugin line."""
    match = _PGAUDIT.search(line)
    if match:
        # STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER
        fields = next(csv.reader([match.group(1).strip()]), [])
        return fields[6] if len(fields) >= 7 and fields[6].strip() else None
    match = _MARIADB.match(line)
    if match:
        return match.group(1).replace("\\'", "'").replace("\\\\", "\\")
    return None


def _section_queries(record: dict[str, Any]) -> list[Any]:
    """`query` of the MySQL audit filter's per-class sections (general, query, table access)."""
    return [
        v.get("query") for k, v in record.items() if k.endswith("_data") and isinstance(v, dict)
    ]


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
