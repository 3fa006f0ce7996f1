"""Gemini CLI telemetry: OTLP and the local file exporter's concatenated pretty-printed SDK
records (fixtures written from gemini-cli's telemetry source: tests/data/agents/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.ingest import ingest_paths

TELEMETRY = Path(__file__).resolve().parents[2] / "tests/data/agents/gemini/telemetry"
FILES = ("otlp-logs-gemini-cli.json", "outfile-telemetry.log")


def test_otlp_and_outfile_give_the_same_rows(store, redactor):
    for name in FILES:
        path = TELEMETRY / name
        assert sniff_collector(path, path.read_bytes()[:4096]).name == "gemini.otel"
    first = ingest_paths(store, [TELEMETRY / FILES[0]], redactor=redactor)
    second = ingest_paths(store, [TELEMETRY / FILES[1]], redactor=redactor)
    assert (first.ingested, first.quarantined) == (6, 0)
    assert (second.ingested, second.duplicate, second.quarantined) == (0, 6, 0)
    rows = store.rows(
        "SELECT kind, operation, status, tool_name, destructive, severity, categories, text "
        "FROM events ORDER BY time"
    )
    assert rows[0]["categories"] == ["safety_bypass"] and "yolo" in rows[0]["text"]
    calls = [r for r in rows if r["tool_name"]]
    assert [(c["tool_name"], c["status"], c["severity"]) for c in calls] == [
        ("run_shell_command", "success", "critical"),
        ("replace", "denied", "info"),
        ("mcp__railway__volume_delete", "success", "critical"),
    ]


def test_outfile_record_still_being_written_waits(tmp_path):
    whole = (TELEMETRY / FILES[1]).read_bytes()
    cut = whole[: whole.rindex(b'"hrTime"')]  # the last record's first lines only
    from agentaudit.collectors import get_collector

    src = SourceInput.from_bytes("telemetry.log", cut, hold_partial_line=True)
    events = list(get_collector("gemini.otel").collect(src))
    assert len(events) == 5 and src.end_offset < len(cut)
    rest = SourceInput.from_bytes("telemetry.log", whole, start_offset=src.end_offset)
    assert len(list(get_collector("gemini.otel").collect(rest))) == 1
