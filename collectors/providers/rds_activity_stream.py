"""Amazon RDS / Aurora Database Activity Streams, decrypted: `DatabaseActivityMonitoringRecord`
documents with their `databaseActivityEventList` (what a consumer writes after decrypting the
Kinesis records with KMS and the AWS Encryption SDK).

Each statement is one event: the database user, client host and application (`psql`), the SQL
classified at enrichment (`agentaudit/enrich/catalog/database.py`), `exitCode` as outcome.
Heartbeats are skipped; a still-encrypted Kinesis record is quarantined with what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Output, SourceInput
from agentaudit.collectors.providers._platform import Fields, PlatformAuditLog, text
from agentaudit.collectors.providers._shared import Record, head_text, json_records
from agentaudit.collectors.providers.mysql_audit import sql_operation
from agentaudit.schema import Quarantined, parse_time

_ENCRYPTED = "DatabaseActivityMonitoringRecords"
_KEY_FIELDS = ("instanceId", "sessionId", "statementId", "substatementId", "logTime")


class RdsActivityStream(PlatformAuditLog):
    name = "aws.rds_activity"
    source = "aws.rds_activity"
    version = "1"
    description = "RDS / Aurora Database Activity Streams (decrypted records)"
    vendor = "database"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"DatabaseActivityMonitoringRecord' in head_text(head)

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, ()):
            if isinstance(item, Quarantined):
                yield item
            elif isinstance(item.value, dict) and item.value.get("type") == _ENCRYPTED:
                yield item.quarantined(
                    "encrypted activity stream record: decrypt it with the stream's KMS key "
                    "(AWS Encryption SDK) and ingest the DatabaseActivityMonitoringRecord"
                )
            elif isinstance(item.value, dict) and "databaseActivityEventList" in item.value:
                yield from self._statements(item, src.path)
            else:
                yield item.quarantined("not a DatabaseActivityMonitoringRecord")

    def _statements(self, item: Record, path: str) -> Iterator[Output]:
        document = item.value
        for position, event in enumerate(document.get("databaseActivityEventList") or []):
            if not isinstance(event, dict) or event.get("type") == "heartbeat":
                continue
            record = {
                **event,
                "clusterId": document.get("clusterId"),
                "instanceId": document.get("instanceId"),
            }
            found = self.fields(record)
            placed = Record(record, item.index * 100_000 + position, item.line, item.offset)
            if isinstance(found, Fields):
                yield self.event(record, found, placed, path)
            elif isinstance(found, str):
                yield placed.quarantined(found)

    def fields(self, record: dict[str, Any]) -> Fields | str:
        sql = text(record.get("commandText"))
        instance = text(record.get("instanceId"), record.get("clusterId"))
        when = str(record.get("logTime") or record.get("startTime") or "")
        database = text(record.get("databaseName"))
        return Fields(
            key="|".join(str(record.get(k)) for k in _KEY_FIELDS),
            time=parse_time(when.replace(" ", "T").replace("+00", "+00:00") if when else None),
            operation=sql_operation(sql) or text(record.get("command")),
            actor=text(record.get("dbUserName")),
            source_ip=text(record.get("remoteHost")),
            user_agent=text(record.get("clientApplication")),
            target=text(record.get("objectName"), database),
            env_ids=[("rds_instance", instance)],
            env_names=[database],
            status="success" if record.get("exitCode") in (0, None) else "failure",
            operation_id=text(record.get("sessionId")),
            tool_name=text(record.get("clientApplication")) or "database",
        )
