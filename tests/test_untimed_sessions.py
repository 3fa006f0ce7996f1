"""A session that mixes rows without times (codex exec --json output, which has none) and rows
with times (the same session's OTel events) goes through detect, alerting and the timeline
without a traceback, and still pages (fixtures: tests/data/agents/codex, written from codex-rs)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.analyst.timeline import incident_timeline
from agentaudit.pipeline import run_pipeline
from agentaudit.receiver import LocalReceiver
from agentaudit.store import Store

CODEX = Path(__file__).parent / "data" / "agents" / "codex"


def test_untimed_and_timed_rows_of_one_session(tmp_path, redactor):
    files = [
        CODEX / "exec-json" / "exec-pocketos.jsonl",
        CODEX / "otel" / "otlp-logs-codex-with-call-id.json",
    ]
    with LocalReceiver() as receiver, Store.open(tmp_path / "s.duckdb") as store:
        result = run_pipeline(store, files, notify_urls=[receiver.url()], redactor=redactor)
        times = store.rows(
            "SELECT count(*) FILTER (WHERE time IS NULL) AS untimed, count(time) AS timed "
            "FROM events WHERE session_id = '019e8a41-2c7d-7b10-9f3e-5a6b7c8d9e0f'"
        )
        assert times[0]["untimed"] > 0 and times[0]["timed"] > 0
        assert any(f["severity"] == "critical" for f in result.detect.findings)
        alert = store.rows("SELECT alert_id FROM alerts ORDER BY alert_id")[0]
        rows = incident_timeline(store, alert["alert_id"])
        assert rows and all(isinstance(r.offset_ms, int) for r in rows)
        assert any(r.time is None for r in rows) and any(r.time is not None for r in rows)
        assert all(
            r.as_dict()["time"] is None or r.as_dict()["time"].startswith("2025") for r in rows
        )
    assert receiver.received and receiver.received[-1]["body"]["title"].startswith("[CRITICAL]")
