"""`agentaudit ingest --discover`: where each coding agent keeps its records on this machine.

Each source names its collector explicitly (no sniffing), so a file in a known place is read
by the right parser even when its first line is unusual. Locations follow each agent's
defaults and the environment variables that move them (CLAUDE_CONFIG_DIR, CODEX_HOME,
GEMINI_DIR); absent directories are simply reported as not found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.paths import home as home_dir
from agentaudit.paths import hook_log_dir
from agentaudit.store import Store
from agentaudit.terminal import Column, FitTable, evidence


@dataclass
class DiscoveredSource:
    name: str  # what the user sees: "Claude Code transcripts"
    collector: str
    roots: list[Path]
    files: list[Path] = field(default_factory=list)


def _glob(roots: Iterable[Path], pattern: str, skip_dirs: tuple[str, ...] = ()) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += [
                p
                for p in root.glob(pattern)
                if p.is_file() and not any(part in skip_dirs for part in p.parts)
            ]
    return sorted(set(found))


def discover_sources(
    home: Path | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> list[DiscoveredSource]:
    env = os.environ if env is None else env
    home = home or Path.home()
    cwd = cwd or Path.cwd()
    claude_roots = [Path(p).expanduser() for p in env.get("CLAUDE_CONFIG_DIR", "").split(",") if p]
    claude_roots += [home / ".claude", home / ".config" / "claude"]
    codex_home = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
    gemini_home = (
        Path(env["GEMINI_DIR"]).expanduser() if env.get("GEMINI_DIR") else home / ".gemini"
    )
    hooks = hook_log_dir()
    sources = [
        DiscoveredSource(
            "Claude Code transcripts",
            "claude-code.transcript",
            [r / "projects" for r in claude_roots],
        ),
        DiscoveredSource("Claude Code hook log", "claude-code.hooks", [hooks]),
        DiscoveredSource("Claude Code OTLP spool", "claude-code.otel", [home_dir() / "otlp"]),
        DiscoveredSource("OTLP spool (serve --spool, watch)", "otlp.spool", [home_dir() / "otlp"]),
        DiscoveredSource("Cursor hook log", "cursor.hooks", [hooks]),
        DiscoveredSource("Codex hook log", "codex.hooks", [hooks]),
        DiscoveredSource("Gemini CLI hook log", "gemini.hooks", [hooks]),
        DiscoveredSource(
            "Codex rollouts",
            "codex.rollout",
            [codex_home / "sessions", codex_home / "archived_sessions"],
        ),
        DiscoveredSource(
            "Codex legacy sessions",
            "codex.session_json",
            [codex_home / "sessions", codex_home / "archived_sessions"],
        ),
        DiscoveredSource("Gemini CLI chats", "gemini.chat", [gemini_home / "tmp"]),
        DiscoveredSource(
            "Cursor agent transcripts", "cursor.transcript", [home / ".cursor" / "projects"]
        ),
        DiscoveredSource(
            "OpenHands events", "openhands.trajectory", [home / ".openhands" / "sessions"]
        ),
        DiscoveredSource("Aider chat history", "aider.history", sorted({cwd, home})),
    ]
    patterns = {
        "claude-code.transcript": ("**/*.jsonl", ("tool-results",)),
        "claude-code.hooks": ("claude-code-*.jsonl", ()),
        "claude-code.otel": ("claude-code-otel-*.jsonl", ()),
        "otlp.spool": ("otlp-*.jsonl", ()),
        "cursor.hooks": ("cursor-*.jsonl", ()),
        "codex.hooks": ("codex-*.jsonl", ()),
        "gemini.hooks": ("gemini-*.jsonl", ()),
        "codex.rollout": ("**/rollout-*.jsonl", ()),
        "codex.session_json": ("**/rollout-*.json", ()),
        "cursor.transcript": ("*/agent-transcripts/**/*.jsonl", ()),
        "openhands.trajectory": ("*/events/*.json", ()),
        "aider.history": (".aider.chat.history.md", ()),
    }
    for source in sources:
        if source.collector == "gemini.chat":
            source.files = _glob(source.roots, "*/chats/session-*.json") + _glob(
                source.roots, "*/chats/session-*.jsonl"
            )
            source.files += _glob(source.roots, "*/logs.json")
        else:
            pattern, skip = patterns[source.collector]
            source.files = _glob(source.roots, pattern, skip)
    return sources


def ingest_discovered(
    store: Store, sources: list[DiscoveredSource], redactor: Redactor | None = None
) -> list[tuple[DiscoveredSource, IngestReport]]:
    """Ingest every discovered file with its source's collector; one report per source."""
    redactor = redactor or redactor_for()
    return [
        (source, ingest_paths(store, source.files, source=source.collector, redactor=redactor))
        for source in sources
    ]


def discovery_summary(results: list[tuple[DiscoveredSource, IngestReport]]) -> list[dict]:
    return [
        {
            "source": source.name,
            "collector": source.collector,
            "found": bool(source.files),
            "files": len(source.files),
            "ingested": report.ingested,
            "duplicate": report.duplicate,
            "quarantined": report.quarantined,
            "unchanged": sum(f.status == "unchanged" for f in report.files),
            "roots": [str(r) for r in source.roots],
        }
        for source, report in results
    ]


def discovery_table(results: list[tuple[DiscoveredSource, IngestReport]]) -> FitTable:
    table = FitTable(
        [
            Column("source", whole=True),
            Column("files", whole=True, justify="right"),
            Column("ingested", whole=True, justify="right"),
            Column("duplicate", whole=True, justify="right"),
            Column("quarantined", whole=True, justify="right"),
            Column("where", shrink_first=True),
        ],
        title="Discovered sources",
    )
    for row in discovery_summary(results):
        where = ", ".join(row["roots"])
        table.add_row(
            row["source"],
            str(row["files"]),
            str(row["ingested"]),
            str(row["duplicate"]),
            str(row["quarantined"]),
            evidence("found") if row["found"] else evidence(f"none in {where}", "dim"),
        )
    return table
