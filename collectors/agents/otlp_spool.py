"""OTLP requests spooled by `agentaudit serve --spool` (and `watch`'s receiver), any agent.

Each line is one request as it was received: `{"agentaudit_otlp": 1, "signal": "logs",
"request_id": ..., "received_at": ..., "request": {OTLP/JSON}}`. Each record of it is read
by the collector that declares it (`collectors/otlp.py`), exactly as `serve` does when it
stores directly, so both paths give the same events. The records `serve` answered as
rejected become quarantine rows here, with the request id and record number in the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors.agents._shared import json_records
from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.collectors.otlp import SIGNALS, dispatch
from agentaudit.schema import Quarantined

MARK = "agentaudit_otlp"


class OtlpSpool(Collector):
    name = "otlp.spool"
    source = "otlp.spool"
    version = "1"
    description = "OTLP logs, metrics and traces spooled by `agentaudit serve --spool` or `watch`"
    origin = "agent"  # any agent's telemetry: each event names its agent
    locations = (
        Location("OTLP spool (serve --spool, watch)", ("{data}/otlp",), ("otlp-*.jsonl",)),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(b'{"' + MARK.encode() + b'"')

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, entry, _text = item
            valid = (
                isinstance(entry, dict)
                and isinstance(entry.get("signal"), str)
                and entry.get("signal") in SIGNALS
                and isinstance(entry.get("request"), dict)
                and isinstance(entry.get("request_id"), str)
            )
            if not valid:
                yield Quarantined("not an OTLP spool entry", line.data, line.number, line.offset)
                continue
            signal, request_id = entry["signal"], entry["request_id"]
            for outcome in dispatch(signal, entry["request"], f"otlp:{signal}/{request_id}"):
                yield from outcome.events
                where = f" (request {request_id}, record {outcome.index + 1})"
                for q in outcome.quarantined:
                    yield Quarantined(q.reason + where, q.raw, line.number, line.offset)
                if outcome.rejected and not outcome.quarantined:
                    yield Quarantined(
                        f"{outcome.reason}{where}", outcome.raw(), line.number, line.offset
                    )
