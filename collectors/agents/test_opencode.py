"""opencode's SQLite store and its older JSON tree: the same session both ways (written from
opencode's schema as public readers quote it; the .db is built from opencode.db.sql:
tests/data/agents/SOURCES.md)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "tests/data/agents/opencode"
CALLS = (
    "SELECT kind, status, exit_code, tool_call_id, severity, cwd, model FROM events "
    "WHERE tool_call_id IS NOT NULL AND source = ? ORDER BY tool_call_id"
)


def expected_calls(rows):
    assert [(r["kind"], r["status"], r["severity"]) for r in rows] == [
        ("process", "success", "critical"),
        ("process", "denied", "high"),
        ("api", "success", "critical"),  # railway_volume_delete: an MCP tool
    ]
    assert rows[0]["exit_code"] == 0 and {r["cwd"] for r in rows} == {"/home/dev/shop"}
    assert {r["model"] for r in rows} == {"claude-sonnet-4-5"}


def test_sqlite_store_read_only_and_again(store, redactor, tmp_path):
    db = tmp_path / "opencode.db"
    shutil.copyfile(DATA / "sqlite" / "opencode.db", db)
    assert sniff_collector(db, db.read_bytes()[:4096]).name == "opencode.db"
    report = ingest_paths(store, [db], redactor=redactor)
    assert (report.ingested, report.quarantined) == (5, 0)
    expected_calls(store.rows(CALLS, ["opencode.db"]))
    with sqlite3.connect(db) as con:  # opencode adds a part: the next run reads it
        con.execute(
            "INSERT INTO part VALUES ('prt_new', 'msg_ae0f3c2b3001Ty5Ui7Op9As2Df', "
            "'ses_51f0c2b7e3d4aXk9Qm2Tz8Rb4w', 1764498013000, 1764498013000, "
            '\'{"type":"text","text":"done"}\')'
        )
    again = ingest_paths(store, [db], redactor=redactor)
    assert (again.ingested, again.duplicate) == (1, 5)


def test_json_tree_gives_the_same_calls(store, redactor):
    report = ingest_paths(store, [DATA / "storage-json"], redactor=redactor)
    assert report.quarantined == 0
    assert {f.status for f in report.files} == {"read", "companion"}
    assert report.ingested == 6  # session, prompt, three calls, reply
    expected_calls(store.rows(CALLS, ["opencode.storage"]))
