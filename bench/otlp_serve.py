"""`agentaudit serve` throughput: OTLP/HTTP requests stored, against storing the same requests
from a file.

    python -m bench.otlp_serve [--events 20000] [--batch 100]

The input is Claude Code `tool_result` log events (a Bash command each, one in ten
destructive), `--batch` per request as an exporter batches them, protobuf and gzip (the
exporters' usual settings). Three sides, each in its own process on a fresh store file:

- baseline: the same requests as OTLP/JSON lines of a file (what an OTel Collector's file
  exporter or `serve --spool` writes), stored by `ingest` with the `claude-code.otel` collector;
- serve: the requests POSTed one after another on one keep-alive connection to `serve` on
  127.0.0.1, each answered after its events are committed (client and server in the process);
- serve --spool: the same, answered after each request is dispatched and appended to the
  spool; the later `ingest` of the spool is timed apart.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import cpu_seconds, peak_rss_mb, run_side
from bench.results import write_section

COMMANDS = ["git status", "npm test", "pytest -q", "ls -la src", "cat README.md", "make lint",
            "docker compose ps", "rg TODO src", "python -m build",
            "terraform destroy -auto-approve"]  # fmt: skip


def requests(events: int, batch: int) -> list[dict]:
    """OTLP/JSON logs requests of `batch` Claude Code tool_result events each."""
    out = []
    for start in range(0, events, batch):
        records = []
        for n in range(start, min(events, start + batch)):
            attrs = {
                "session.id": f"bench-session-{n // 500}",
                "event.name": "tool_result",
                "event.sequence": n,
                "event.timestamp": f"2026-05-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000Z",
                "tool_name": "Bash",
                "tool_use_id": f"toolu_bench_{n}",
                "success": "true",
                "tool_parameters": json.dumps({"full_command": f"{COMMANDS[n % 10]} # {n}"}),
            }
            records.append(
                {
                    "timeUnixNano": str(1777593600_000_000_000 + n * 1_000_000),
                    "body": {"stringValue": "claude_code.tool_result"},
                    "attributes": [
                        {"key": k, "value": {"stringValue": str(v)}} for k, v in attrs.items()
                    ],
                }
            )
        out.append(
            {
                "resourceLogs": [
                    {
                        "resource": {
                            "attributes": [
                                {"key": "service.name", "value": {"stringValue": "claude-code"}}
                            ]
                        },
                        "scopeLogs": [
                            {
                                "scope": {"name": "com.anthropic.claude_code.events"},
                                "logRecords": records,
                            }
                        ],
                    }
                ]
            }
        )
    return out


def protobuf_bodies(documents: list[dict]) -> list[bytes]:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    return [
        gzip.compress(json_format.ParseDict(d, ExportLogsServiceRequest()).SerializeToString())
        for d in documents
    ]


def side_file(workdir: Path, events: int, batch: int) -> dict:
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store
    from agentaudit.testing import TEST_KEY

    path = workdir / "claude-code-otel-requests.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in requests(events, batch)))
    with Store.open(workdir / "file.duckdb") as store:
        cpu, started = cpu_seconds(), time.perf_counter()
        report = ingest_paths(store, [path], source="claude-code.otel", redactor=Redactor(TEST_KEY))
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"stored": report.ingested, "seconds": wall, "cpu": cpu, "rss": peak_rss_mb()}


def side_serve(workdir: Path, events: int, batch: int, spool: bool) -> dict:
    from agentaudit.enrich.secrets import Redactor
    from agentaudit.ingest import ingest_paths
    from agentaudit.receivers.otlp.server import OtlpReceiver
    from agentaudit.store import Store
    from agentaudit.testing import TEST_KEY

    bodies = protobuf_bodies(requests(events, batch))
    redactor = Redactor(TEST_KEY)
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    with Store.open(workdir / "serve.duckdb") as store:
        receiver = OtlpReceiver(
            None if spool else store,
            port=0,
            redactor=redactor,
            spool_dir=workdir / "spool" if spool else None,
        )
        with receiver as rx:
            conn = http.client.HTTPConnection(rx.host, rx.port, timeout=120)
            cpu, started = cpu_seconds(), time.perf_counter()
            for body in bodies:
                conn.request("POST", "/v1/logs", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                assert response.status == 200, response.status
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            conn.close()
        result = {"stored": rx.stats.stored, "seconds": wall, "cpu": cpu}
        if spool:
            cpu, started = cpu_seconds(), time.perf_counter()
            report = ingest_paths(store, [workdir / "spool"], redactor=redactor)
            result["later_ingest_seconds"] = time.perf_counter() - started
            result["later_ingest_cpu"] = cpu_seconds() - cpu
            result["later_ingested"] = report.ingested
    result["rss"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--side", choices=["file", "serve", "spool"])
    args = parser.parse_args()
    if args.side:
        with tempfile.TemporaryDirectory() as tmp:
            if args.side == "file":
                result = side_file(Path(tmp), args.events, args.batch)
            else:
                result = side_serve(Path(tmp), args.events, args.batch, args.side == "spool")
        print(json.dumps(result))
        return
    sizes = ["--events", str(args.events), "--batch", str(args.batch)]
    load = os.getloadavg()[0]  # the machine is shared: wall time stretches with its load
    results = {side: run_side("bench.otlp_serve", "--side", side, *sizes) for side in ("file", "serve", "spool")}  # fmt: skip
    base = results["file"]
    rows = []
    for side, label in (
        ("file", "baseline: `ingest` of the same requests as OTLP/JSON lines"),
        ("serve", "`serve`: POST, dispatch, store, reply"),
        ("spool", "`serve --spool`: POST, dispatch, append, reply"),
    ):
        r = results[side]
        assert r["stored"] == args.events, (side, r)
        rate = args.events / r["seconds"]
        rows.append(
            f"| {label} | {r['seconds']:.2f} | {r['cpu']:.2f} | {rate:,.0f} | "
            f"{(base['seconds'] / r['seconds']):.2f} | {r['rss']:.0f} |"
        )
    spool = results["spool"]
    assert spool["later_ingested"] == args.events
    body = f"""## serve: OTLP/HTTP requests stored, against the same requests from a file

`python -m bench.otlp_serve --events {args.events} --batch {args.batch}`: {args.events:,} Claude Code
`tool_result` events, {args.batch} per request (protobuf, gzip), sent one request after another on
one keep-alive connection to `serve` on 127.0.0.1 (uvicorn + starlette; the client runs in
the same process, its CPU is counted). Baseline: `ingest` of the same requests written as
OTLP/JSON lines (the `claude-code.otel` collector, one file). Each side in its own process,
fresh store; the 1-minute load average was {load:.1f} when the run started (shared machine:
compare CPU seconds as well as wall time).

| side | seconds | CPU s | events/s | throughput vs baseline | peak RSS MB |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

`serve --spool` acknowledges after the spool append; its later `ingest` of the spool took
{spool["later_ingest_seconds"]:.2f} s ({spool["later_ingest_cpu"]:.2f} CPU s) for the same events.
"""
    write_section("otlp_serve", body)
    print(body)


if __name__ == "__main__":
    sys.exit(main())
