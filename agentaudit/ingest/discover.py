"""`agentaudit ingest --discover`: where each coding agent keeps its records on this machine.

Each collector declares its default locations (`Collector.locations`); this module only
expands them and globs. Each source names its collector explicitly (no sniffing), so a file
in a known place is read by the right parser even when its first line is unusual. Roots
follow the agents' defaults on Linux, macOS and Windows where documented (a location names
its platforms) and the environment variables that move them (CLAUDE_CONFIG_DIR, CODEX_HOME,
GEMINI_DIR, COPILOT_HOME, XDG_*); absent directories are reported as not found.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentaudit import collectors as registry  # looked up at each call: a patched one is seen
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
    description: str = ""  # the collector's


def _glob(roots: Iterable[Path], pattern: str, skip_dirs: tuple[str, ...] = ()) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():  # a variable naming the log file itself
            found.append(root)
        elif root.is_dir():
            found += [
                p
                for p in root.glob(pattern)
                if p.is_file() and not any(part in skip_dirs for part in p.relative_to(root).parts)
            ]
    return sorted(set(found))


# `$VAR/rest` or `${VAR:-default}/rest` at the start of a root
_VARIABLE = re.compile(
    r"^\$(?:\{(?P<braced>\w+)(?::-(?P<default>[^}]*))?\}|(?P<bare>\w+))(?P<rest>.*)$"
)


def expand_root(root: str, places: Mapping[str, Path], env: Mapping[str, str]) -> list[Path]:
    """The directories a `Location` root names (see `agentaudit.collectors.base.Location`).
    `places` holds `home`, `cwd`, `hooks` and `data`."""
    match = _VARIABLE.match(root)
    if match and match["bare"]:  # every comma-separated entry; none when unset
        return [
            Path(p).expanduser() / match["rest"].lstrip("/")
            for p in env.get(match["bare"], "").split(",")
            if p
        ]
    if match:
        value = env.get(match["braced"])
        base = (
            [Path(value).expanduser()]
            if value
            else expand_root(match["default"] or "", places, env)
        )
        return [b / match["rest"].lstrip("/") for b in base]
    if root == "~" or root.startswith("~/"):
        return [places["home"] / root[2:]]
    for name in ("cwd", "hooks", "data"):
        if root == f"{{{name}}}" or root.startswith(f"{{{name}}}/"):
            return [places[name] / root[len(name) + 3 :]]
    return [Path(root)]


def discover_sources(
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    platform: str | None = None,
    find: bool = True,
) -> list[DiscoveredSource]:
    """Every registered collector's default locations on this platform, expanded and globbed
    (`find=False`: only the places, for `agentaudit sources`)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    places = {
        "home": home or Path.home(),
        "cwd": cwd or Path.cwd(),
        "hooks": hook_log_dir(),
        "data": home_dir(),
    }
    sources = []
    for collector in registry.all_collectors().values():
        for location in collector.locations:
            if location.platforms and platform not in location.platforms:
                continue
            roots = [p for root in location.roots for p in expand_root(root, places, env)]
            roots = list(dict.fromkeys(roots))
            files = [
                f
                for pattern in (location.patterns if find else ())
                for f in _glob(roots, pattern, location.skip)
            ]
            sources.append(
                DiscoveredSource(
                    location.label,
                    collector.name,
                    roots,
                    list(dict.fromkeys(files)),
                    collector.description,
                )
            )
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
