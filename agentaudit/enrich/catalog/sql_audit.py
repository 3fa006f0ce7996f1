"""Database audit records (pgAudit, MariaDB audit plugin, MySQL audit filter, RDS activity
streams): the SQL they
carry decides, through the command analyser's SQL classification (`statement_categories`),
never the command tag alone (`DELETE` with and without WHERE share one)."""

from __future__ import annotations

from typing import Any

from agentaudit.enrich.commands.programs.db import statement_categories


def needs_record(operation: str) -> bool:
    return True


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    for holder in (record, record.get("general_data"), record.get("query_data")):
        if isinstance(holder, dict):
            sql = holder.get("statement") or holder.get("query") or holder.get("commandText")
            if isinstance(sql, str) and sql:
                return statement_categories(sql)
    return []
