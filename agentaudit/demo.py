"""`agentaudit demo`: the built-in PocketOS replay through every stage, in a fresh store."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from agentaudit.analyst import render
from agentaudit.analyst.render_steps import steps_table
from agentaudit.analyst.timeline import TimelineRow, incident_timeline
from agentaudit.analyst.timeline_steps import build_report
from agentaudit.enrich.secrets import Redactor, load_or_create_key
from agentaudit.pipeline import PipelineResult, run_pipeline
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store
from agentaudit.terminal import evidence, make_console

SCENARIO = "pocketos"


@dataclass
class DemoResult:
    workdir: Path
    db_path: Path
    export_path: Path
    pipeline: PipelineResult
    received: list[dict[str, Any]]
    timeline: list[TimelineRow]
    seconds: float


def run_demo(workdir: Path | None = None, console: Console | None = None) -> DemoResult:
    started = time.perf_counter()
    console = console or make_console()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="agentaudit-demo-"))
    db_path = workdir / "agentaudit.duckdb"
    export_path = workdir / "findings.ocsf.ndjson"
    redactor = Redactor(load_or_create_key(workdir / "fingerprint.key"))
    console.rule(evidence("agentaudit demo: PocketOS, April 2026", "bold"))
    console.print(evidence(f"Fresh store: {db_path}"))
    with LocalReceiver() as receiver, Store.open(db_path) as store:
        console.print(evidence(f"Alert receiver on http://127.0.0.1:{receiver.port}/alerts\n"))
        result = run_pipeline(
            store,
            scenario_files(SCENARIO),
            notify_urls=[receiver.url()],
            export_path=export_path,
            redactor=redactor,
        )
        console.print(render.ingest_table(result.ingest))
        console.print(render.findings_table(result.detect.findings))
        for item in receiver.received:
            body = item["body"]
            # a rule, not a panel: the message is evidence, shown whole on its own lines
            where = f"receiver got POST {item['path']} (type {body.get('type')})"
            console.rule(evidence(where, "red"), style="red")
            console.print(evidence(body["title"], "bold"))
            console.print(evidence(body["message"]))
            console.print()
        console.print(
            evidence(f"OCSF 1.8.0 export: {result.exported} Detection Findings -> {export_path}\n")
        )
        alert = result.alerts[0] if result.alerts else None
        timeline = incident_timeline(store, alert["alert_id"]) if alert else []
        title = f"Incident timeline (session {alert['session_id'] if alert else '-'})"
        scope = {"incident": alert["alert_id"]} if alert else {}
        console.print(steps_table(build_report(title, scope, timeline)))
        received = list(receiver.received)
    seconds = time.perf_counter() - started
    console.print(
        evidence(
            f"\nDone in {seconds:.2f} s. Explore: agentaudit query --db {db_path} "
            '"SELECT source, count(*) FROM events GROUP BY ALL"'
        )
    )
    return DemoResult(workdir, db_path, export_path, result, received, timeline, seconds)
