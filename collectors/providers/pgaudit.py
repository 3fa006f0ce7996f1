"""pgAudit lines in PostgreSQL's own logs: stderr (any `log_line_prefix`, RDS's included) and
csvlog. Supabase, RDS, Aurora and self-hosted servers write these; Cloud SQL's pgAudit entries
arrive as Cloud Audit Logs (`gcp.audit`).

An `AUDIT:` message is `TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,
STATEMENT,PARAMETER`, CSV-quoted. Who ran it is not in that text: csvlog has it in columns; in
stderr it is read from the prefix (`%u@%d`, `%r`) or from the session's `connection
authorized: user=... database=... application_name=...` line, matched on the process id. So
SQL an agent ran through `psql` shows here with user, database, client address and
`application_name` (kept as the user agent). The statement is classified at enrichment
(`agentaudit/enrich/catalog/database.py`), never the COMMAND alone (`DELETE` with and
without WHERE look the same). The whole file is re-read each run (session context lives in
earlier lines); ids are stable, so nothing is stored twice.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

AUDIT = re.compile(rb"AUDIT: (?:SESSION|OBJECT),\d+,\d+,")
_AUDIT_FIELDS = (
    "audit_type", "statement_id", "substatement_id", "audit_class", "command",
    "object_type", "object_name", "statement", "parameter",
)  # fmt: skip
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([A-Z]{2,5}|[+-]\d\d))?")
_PID = re.compile(r"\[(\d+)\]")
_USER_DB = re.compile(
    r":(?P<client>[^:@\s]*?)(?:\((?P<port>\d+)\))?:(?P<user>[^:@\s]*)@(?P<db>[^:@\s]*):\["
)
_AUTHORIZED = re.compile(
    r"connection authorized: user=(\S+)(?: database=(\S+))?(?: application_name=(.+))?"
)
_RECEIVED = re.compile(r"connection received: host=(\S+?)(?: port=\d+)?$")
_LEVEL = re.compile(r"\b(LOG|ERROR|FATAL|STATEMENT|DETAIL|WARNING|PANIC|HINT|CONTEXT):  ")
_KEY_FIELDS = ("time", "pid", "session", "statement_id", "substatement_id", "object_name", "audit_class")  # fmt: skip
# csvlog columns (stable positions since PostgreSQL 9.0)
_CSV = {"time": 0, "user": 1, "database": 2, "pid": 3, "client": 4, "session": 5, "message": 13, "application": 22}  # fmt: skip


class PgAuditLog(Collector):
    name = "postgresql.pgaudit"
    source = "postgresql.pgaudit"
    version = "1"
    description = "PostgreSQL server log with pgAudit lines (stderr or csvlog)"
    origin = "provider"
    vendor = "postgresql"
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return AUDIT.search(head) is not None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        csvlog = re.match(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \w+,", data[:64])
        found = False
        for output in self._csvlog(data, src.path) if csvlog else self._stderr(data, src.path):
            found = True
            yield output
        if not found:  # never a silent zero: a server log without pgAudit lines says so
            yield Quarantined("no pgAudit line (AUDIT: ...) in this log", data[:4096], None, 0)

    def _csvlog(self, data: bytes, path: str) -> Iterator[Output]:
        rows = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
        index = 0
        for row in rows:
            if len(row) <= _CSV["message"] or "AUDIT: " not in row[_CSV["message"]]:
                continue
            context = {key: (row[pos] if pos < len(row) else "") for key, pos in _CSV.items()}
            yield self._audit(context, row[_CSV["message"]], path, rows.line_num, index)
            index += 1

    def _stderr(self, data: bytes, path: str) -> Iterator[Output]:
        sessions: dict[str, dict[str, str]] = {}
        index = 0
        for number, entry in _entries(data.decode("utf-8", "replace")):
            level = _LEVEL.search(entry)
            if not level:
                continue
            prefix, message = entry[: level.start()], entry[level.end() :]
            pid = _PID.findall(prefix)
            context = {"pid": pid[-1] if pid else "", "time": _time_of(prefix)}
            known = sessions.setdefault(context["pid"], {})
            prefixed = _USER_DB.search(prefix)
            if prefixed:
                known.update({k: v for k, v in prefixed.groupdict().items() if v})
            if authorized := _AUTHORIZED.search(message):
                user, database, application = authorized.groups()
                known.update(user=user, db=database or "", application=(application or "").strip())
            elif received := _RECEIVED.search(message):
                known["client"] = received.group(1)
            elif "disconnection:" in message:
                sessions.pop(context["pid"], None)
            elif message.startswith("AUDIT: "):
                context.update(
                    user=known.get("user", ""), database=known.get("db", ""),
                    client=known.get("client", ""), application=known.get("application", ""),
                )  # fmt: skip
                yield self._audit(context, message, path, number, index)
                index += 1

    def _audit(
        self, context: dict[str, str], message: str, path: str, line: int, index: int
    ) -> Output:
        try:
            values = next(csv.reader([message.removeprefix("AUDIT: ")]))
        except (csv.Error, StopIteration) as exc:
            return Quarantined(f"unreadable pgAudit text: {exc}", message.encode(), line)
        if len(values) < 8:
            return Quarantined("pgAudit text with fewer than 8 fields", message.encode(), line)
        record: dict[str, Any] = dict(zip(_AUDIT_FIELDS, values, strict=False))
        record.update({k: v for k, v in context.items() if v})
        when = parse_time(_iso(context.get("time", "")))
        client = _address(context.get("client") or "")
        return new_event(
            self.source,
            record_key="|".join(str(record.get(k, "")) for k in _KEY_FIELDS),
            source_path=path,
            seq=index,
            parser_version=self.parser_version,
            time=when,
            time_precision="ms" if when else "none",
            agent="unknown",
            actor=record.get("user") or None,
            kind="api",
            tool_name=record.get("application") or "postgresql",
            operation=record.get("command") or None,
            target=record.get("object_name") or record.get("database") or None,
            env_hints=[f"name={record['database']}"] if record.get("database") else None,
            status="success",  # pgAudit writes no line for a statement that failed
            raw=raw_json(record),
            source_ip=client if client and client != "[local]" else None,
            user_agent=record.get("application") or None,
            operation_id=context.get("session") or context.get("pid") or None,
            repeat=False,
        )


def _entries(text: str) -> Iterator[tuple[int, str]]:
    """Log entries with their first line number: a line that does not start with a time is
    the continuation of a multi-line statement."""
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if _TIME.match(line) or not current:
            if current:
                yield start, "\n".join(current)
            current, start = [line], number
        else:
            current.append(line.removeprefix("\t"))
    if current and current[0]:
        yield start, "\n".join(current)


def _address(client: str) -> str:
    """`127.0.0.1(45272)` (stderr %r) or `127.0.0.1:45272` (csvlog) -> the host."""
    host = client.split("(")[0]
    if re.fullmatch(r"[^:]+:\d+", host):
        host = host.rsplit(":", 1)[0]
    return host


def _time_of(prefix: str) -> str:
    match = _TIME.match(prefix)
    return f"{match.group(1)} {match.group(2) or ''}".strip() if match else ""


def _iso(value: str) -> str | None:
    """`2026-12-07 18:18:44.238 UTC` (PostgreSQL's %m / %t) as ISO 8601."""
    match = _TIME.match(value)
    if not match:
        return None
    zone = match.group(2) or "UTC"
    suffix = "+00:00" if zone in ("UTC", "GMT") else (zone + ":00" if zone[0] in "+-" else "")
    return match.group(1).replace(" ", "T") + suffix
