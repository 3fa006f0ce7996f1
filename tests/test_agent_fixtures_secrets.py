"""No secret in clear from any agent format of issue 18: every fixture in tests/data/agents gets a
planted GitHub token in each free-text string it carries (commands, arguments, prompts, replies,
outputs, also inside JSON held in a string and in opencode's SQLite store), is ingested into a
real DuckDB file, and every column of every table is searched through SQL.

The fixtures are written from vendor docs (tests/data/agents/SOURCES.md); the token is a fake in
the real `ghp_` shape with a valid checksum (tests/planted_secrets.py), made at test time.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from agentaudit.ingest import ingest_paths
from agentaudit.store import Store
from tests.planted_secrets import SHAPES_BY_NAME, scan_paths, scan_store

AGENTS = Path(__file__).parent / "data" / "agents"
TOKEN = SHAPES_BY_NAME["github_pat_classic"].value
# settings files for `hooks install`, the SQL the opencode store was built from, field guides
NOT_INPUT = ("hook-settings", ".md", ".sql")


def is_free_text(text: str) -> bool:
    """Commands, prompts and outputs have spaces or paths; ids, times and enums do not."""
    return len(text) >= 8 and (" " in text or "/" in text)


def plant(value: Any, key: str = "") -> tuple[Any, int]:
    """`value` with the token appended to each free-text string, and how many were planted.
    A string that holds JSON is planted inside and encoded again, so it still parses. Model
    names are left alone: they are identifiers (`copilot/claude-sonnet-4.5`), never free text."""
    if isinstance(value, dict):
        planted = {k: plant(v, str(k)) for k, v in value.items()}
        return {k: v for k, (v, _) in planted.items()}, sum(n for _, n in planted.values())
    if isinstance(value, list):
        planted = [plant(v, key) for v in value]
        return [v for v, _ in planted], sum(n for _, n in planted)
    if isinstance(value, str) and "model" not in key.lower():
        if value[:1] in "[{":
            try:
                inner, n = plant(json.loads(value))
            except ValueError:
                pass
            else:
                return json.dumps(inner), n
        if is_free_text(value):
            return f"{value} --token {TOKEN}", 1
    return value, 0


def plant_text_file(path: Path) -> int:
    """JSON documents and JSON lines planted in place; lines that are not JSON are left."""
    text = path.read_text()
    try:
        document = json.loads(text)
    except ValueError:
        lines, total = [], 0
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                lines.append(line)
                continue
            planted, n = plant(record)
            lines.append(json.dumps(planted))
            total += n
        path.write_text("\n".join(lines) + "\n")
        return total
    planted, n = plant(document)
    pretty = "\n" in text.strip()  # a one-line document (a single JSON line) stays one line
    path.write_text(json.dumps(planted, indent=1 if pretty else None) + "\n")
    return n


def plant_sqlite(path: Path) -> int:
    total = 0
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            rows = db.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
            columns = [d[0] for d in db.execute(f'SELECT * FROM "{table}" LIMIT 0').description]
            for rowid, *values in rows:
                for column, value in zip(columns, values, strict=True):
                    planted, n = plant(value, column)
                    if n:
                        db.execute(
                            f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (planted, rowid)
                        )
                        total += n
    return total


def planted_copy(target: Path) -> Counter[str]:
    """The agent fixtures copied to `target` with the token planted; plants per agent folder."""
    shutil.copytree(AGENTS, target, ignore=shutil.ignore_patterns(*(f"*{s}" for s in NOT_INPUT)))
    plants: Counter[str] = Counter()
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        agent = path.relative_to(target).parts[0]
        if path.suffix == ".db":
            plants[agent] += plant_sqlite(path)
        else:
            plants[agent] += plant_text_file(path)
    return plants


def test_every_agent_format_keeps_no_planted_token_in_clear(tmp_path, redactor):
    plants = planted_copy(tmp_path / "agents")
    readable = {p.name for p in AGENTS.iterdir() if p.is_dir() and p.name != "hook-settings"}
    assert set(plants) == readable and all(plants.values()), plants  # every agent carries it
    db = tmp_path / "store.duckdb"
    with Store.open(db) as store:
        report = ingest_paths(store, [tmp_path / "agents"], redactor=redactor)
        by_source: Counter[str] = Counter()
        for file in report.files:
            by_source[file.source] += file.ingested
        sources = {r["source"] for r in store.rows("SELECT DISTINCT source FROM events")}
        seen = {  # sources where the redactor met the token (a fingerprint is kept)
            r["source"]
            for r in store.rows("SELECT DISTINCT source FROM events WHERE len(secret_fps) > 0")
        }
    # every agent collector of issue 18 read its planted files, and met the token in them
    for source in (
        "amp.thread",
        "antigravity.transcript",
        "antigravity.hooks",
        "claude-code.hooks",
        "claude-code.mcp",
        "claude-code.otel",
        "claude-code.transcript",
        "claude-desktop.audit",
        "cline.task",
        "codex.exec",
        "codex.otel",
        "gemini.otel",
        "genai.otel",
        "copilot.session",
        "copilot.hooks",
        "opencode.db",
        "opencode.storage",
        "roo-code.task",
        "vscode-copilot.chat",
        "windsurf.hooks",
    ):
        assert by_source[source] > 0 and source in sources and source in seen, (source, seen)
    assert scan_store(db, [SHAPES_BY_NAME["github_pat_classic"]]) == []
    assert scan_paths(tmp_path.glob("store.duckdb.wal"), {"github_pat_classic": TOKEN}) == []
