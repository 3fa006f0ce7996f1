"""MySQL and MariaDB audit logs: the MariaDB Audit Plugin's CSV lines (`server_audit.log`, also
Amazon RDS for MySQL/MariaDB's `MARIADB_AUDIT_PLUGIN`) and the MySQL Enterprise / Percona
audit log filter JSON (one array of events).

Each query becomes one event whose `operation` is its leading keywords (`DROP TABLE`); the SQL
itself is classified at enrichment (`agentaudit/enrich/catalog/database.py`). A non-zero
`retcode` / `status` is a failure (1045 bad password, 1051 unknown table); connects and
failed connects are `auth` events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput
from agentaudit.collectors.providers._platform import Fields, PlatformAuditLog, mapping, text
from agentaudit.collectors.providers._shared import head_text
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_MARIADB = re.compile(
    r"^(?P<time>\d{8} \d\d:\d\d:\d\d),(?P<server>[^,]*),(?P<user>[^,]*),(?P<host>[^,]*),"
    r"(?P<connection>\d+),(?P<query_id>\d+),(?P<operation>[A-Z_]+),(?P<database>[^,]*),"
    r"(?P<object>.*),(?P<retcode>-?\d+)$"
)
_KEYWORDS = re.compile(r"^\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)(?:\s+(TABLE|DATABASE|SCHEMA|USER|VIEW|INDEX|FROM|INTO|ROLE))?", re.S)  # fmt: skip
_KEY_FIELDS = ("time", "server", "connection", "query_id", "operation", "object")
_AUTH_OPERATIONS = {"CONNECT", "DISCONNECT", "FAILED_CONNECT", "CHANGEUSER"}


def sql_operation(sql: str | None) -> str | None:
    """The statement's leading keywords, upper case: `DROP TABLE`, `DELETE FROM`, `SELECT`."""
    match = _KEYWORDS.match(sql or "")
    if not match:
        return None
    return " ".join(word.upper() for word in match.groups() if word)


class MariaDbAuditLog(Collector):
    name = "mysql.server_audit"
    source = "mysql.server_audit"
    version = "1"
    description = "MariaDB Audit Plugin log (server_audit.log; RDS MySQL/MariaDB audit)"
    origin = "provider"
    vendor = "mysql"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
        return _MARIADB.match(first.rstrip("\r")) is not None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for line in src.lines():
            body = line.data.decode("utf-8", "replace").rstrip("\r")
            if not body.strip():
                continue
            match = _MARIADB.match(body)
            if not match:
                yield Quarantined(
                    "not a MariaDB audit plugin line", line.data, line.number, line.offset
                )
                continue
            record: dict[str, Any] = match.groupdict()
            record["object"] = _unquote(record["object"])
            yield self._event(record, src.path, line.number, line.offset)

    def _event(self, record: dict[str, Any], path: str, number: int, offset: int) -> Output:
        operation = record["operation"]
        sql = record["object"] if operation == "QUERY" else ""
        record["statement"] = sql or None
        stamp = record["time"]
        when = parse_time(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:]}+00:00")
        return new_event(
            self.source,
            record_key="|".join(str(record[k]) for k in _KEY_FIELDS),
            source_path=path,
            source_offset=offset,
            seq=number,
            parser_version=self.parser_version,
            time=when,  # the plugin writes the server's local time; RDS runs in UTC
            time_precision="s" if when else "none",
            host=record["server"] or None,
            agent="unknown",
            actor=record["user"] or None,
            kind="auth" if operation in _AUTH_OPERATIONS else "api",
            tool_name="mysql",
            operation=sql_operation(sql) if sql else operation,
            target=record["database"] or None,
            env_hints=[f"name={record['database']}"] if record["database"] else None,
            status="success" if record["retcode"] == "0" else "failure",
            error=None if record["retcode"] == "0" else f"error {record['retcode']}",
            raw=raw_json(record),
            source_ip=record["host"] or None,
            operation_id=record["connection"],
            repeat=False,
        )


def _unquote(value: str) -> str:
    """`'DROP TABLE \\'a\\''` -> `DROP TABLE 'a'` (the plugin backslash-escapes inside quotes)."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)


class MySqlAuditFilterLog(PlatformAuditLog):
    name = "mysql.audit_filter"
    source = "mysql.audit_filter"
    version = "1"
    description = "MySQL Enterprise / Percona audit log filter JSON"
    vendor = "mysql"

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return (
            b'"class"' in head
            and b'"event"' in head
            and (b'"connection_id"' in head or b'"server_id"' in head)
        )

    def fields(self, record: dict[str, Any]) -> Fields | str | None:
        if "class" not in record or "event" not in record:
            return "not a MySQL audit filter event (no class or event)"
        if record["class"] == "audit":
            return None  # the log's own start and stop records
        data = mapping(record.get("general_data")) or mapping(record.get("query_data"))
        connection = mapping(record.get("connection_data"))
        login, account = mapping(record.get("login")), mapping(record.get("account"))
        sql = text(data.get("query"))
        status = data.get("status", connection.get("status", 0))
        database = text(connection.get("db"), data.get("db"))
        return Fields(
            key="|".join(str(record.get(k)) for k in ("timestamp", "id", "connection_id")),
            time=parse_time(str(record.get("timestamp", "")).replace(" ", "T") + "+00:00"),
            operation=sql_operation(sql) or text(data.get("sql_command"), record.get("event")),
            actor=text(login.get("user"), account.get("user")),
            source_ip=text(login.get("ip"), account.get("host")),
            target=database,
            env_names=[database],
            status="success" if status in (0, "0", None) else "failure",
            kind="auth" if record["class"] == "connection" else "api",
            operation_id=text(record.get("connection_id")),
            tool_name="mysql",
        )
