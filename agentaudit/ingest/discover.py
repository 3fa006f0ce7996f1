"""`agentaudit ingest --discover`: every source the registry knows, where it lives on this machine.

Each collector declares its own default locations (`Collector.locations`: Linux, macOS and
Windows where documented, and the environment variables that move them, such as
CLAUDE_CONFIG_DIR, CODEX_HOME, GEMINI_DIR, COPILOT_HOME, XDG_*); discovery resolves them for
this platform and reads each file with the collector that declared it (no sniffing: a file
in a known place is read by the right parser even when its first line is unusual). Sources
with no files are reported with the places looked at.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentaudit import collectors as registry  # looked up at each call: a patched one is seen
from agentaudit.collectors.base import Location
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.paths import home as home_dir
from agentaudit.paths import hook_log_dir
from agentaudit.store import Store
from agentaudit.terminal import Column, FitTable, evidence


@dataclass
class DiscoveredSource:
    name: str  # the collector's name: what `--source` takes
    collector: str
    roots: list[Path]
    files: list[Path] = field(default_factory=list)
    description: str = ""


def _places(home: Path, env: Mapping[str, str], cwd: Path) -> dict[str, Path]:
    """What each root placeholder stands for (the platform decides which are used)."""

    def xdg(name: str, default: str) -> Path:
        return Path(env[name]).expanduser() if env.get(name) else home / default

    return {
        "xdg_data": xdg("XDG_DATA_HOME", ".local/share"),
        "xdg_cache": xdg("XDG_CACHE_HOME", ".cache"),
        "xdg_config": xdg("XDG_CONFIG_HOME", ".config"),
        "mac_support": home / "Library" / "Application Support",
        "mac_caches": home / "Library" / "Caches",
        "appdata": Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming",
        "localappdata": (
            Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
        ),
        "cwd": cwd,
        "agentaudit": home_dir(),
        "hooks": hook_log_dir(),
    }


def resolve_roots(location: Location, home: Path, env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The directories (or, from a variable naming a file, the file) a location points at."""
    if location.env and env.get(location.env):
        return [Path(p).expanduser() for p in env[location.env].split(",") if p]
    root = location.root
    if root.startswith("~"):
        return [home / root[1:].lstrip("/")]
    if root.startswith("{"):
        name, _, rest = root[1:].partition("}")
        base = _places(home, env, cwd)[name]
        return [base / rest.lstrip("/")] if rest else [base]
    return [Path(root)]


def _glob(root: Path, location: Location) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return [
        p
        for p in root.glob(location.pattern)
        if p.is_file() and not any(part in location.skip for part in p.relative_to(root).parts)
    ]


def discover_sources(
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    platform: str | None = None,
    find: bool = True,
) -> list[DiscoveredSource]:
    """One entry per collector with a location on this platform, with the files found
    (`find=False`: only the places, for `agentaudit sources`)."""
    env = os.environ if env is None else env
    home = home or Path.home()
    cwd = cwd or Path.cwd()
    platform = platform or sys.platform
    sources = []
    for collector in registry.all_collectors().values():
        roots: list[Path] = []
        files: list[Path] = []
        for location in collector.locations:
            if platform not in location.platforms:
                continue
            for root in resolve_roots(location, home, env, cwd):
                roots.append(root)
                files += _glob(root, location) if find else []
        if roots:
            source = DiscoveredSource(
                collector.name, collector.name, list(dict.fromkeys(roots)), sorted(set(files))
            )
            source.description = collector.description
            sources.append(source)
    return sources


def ingest_discovered(
    store: Store, sources: Iterable[DiscoveredSource], redactor: Redactor | None = None
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
            "description": source.description,
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
