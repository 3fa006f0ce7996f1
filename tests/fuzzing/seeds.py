"""Real samples to mutate, per collector: the shared corpus and tests/data, cut small.

Each file is given to the collector that recognises it (its `sniff`); samples a collector
reads in a wrapper (agentaudit's hook log lines, the OTLP spool) are wrapped the way
agentaudit writes them. Big files are cut into windows of a few lines (or a few records of a
JSON document, re-wrapped in its container) so one input stays a few KB: the mutations make
them big where that is the point. Two collectors have no real sample anywhere (the guard's
decision log, Railway's GraphQL pages): their lines are written here around real commands
and Railway's documented fields.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agentaudit.collectors import all_collectors, sniff_collector

REPO = Path(__file__).resolve().parents[2]
WINDOW_LINES = 12
WINDOW_BYTES = 8192
WINDOWS_PER_FILE = 24
SKIP_SUFFIXES = {".md", ".tsv", ".sql", ".yaml", ".yml", ".py", ".sh", ".toml"}


@dataclass(frozen=True)
class Seed:
    name: str  # the file name the collector sees
    data: bytes
    origin: str  # where the sample came from
    gzip: bool = False


def corpus_dir() -> Path | None:
    path = Path(os.environ.get("AGENTAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))
    return path if path.is_dir() else None


@cache
def all_seeds() -> dict[str, tuple[Seed, ...]]:
    found: dict[str, list[Seed]] = {name: [] for name in all_collectors()}
    roots = [r for r in (corpus_dir(), REPO / "tests" / "data") if r is not None]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in SKIP_SUFFIXES or path.name.isupper():
                continue
            data = path.read_bytes()
            collector = sniff_collector(path, data[:4096])
            if collector is not None:
                found[collector.name] += _windows(path, data)
    for path in _payload_files(roots):
        _add_wrapped(found, path)
    found["aider.history"] += [s for root in roots for s in _aider(root)]
    found["agentaudit.guard"] += _guard_lines(roots)
    found["railway.audit"] += _railway_pages()
    found["cursor.transcript"] += _cursor_transcripts(roots)
    found["codex.session_json"] += _codex_session_documents(found["codex.rollout"])
    return {name: tuple(s for s in seeds if _yields(name, s)) for name, seeds in found.items()}


def _yields(collector_name: str, seed: Seed) -> bool:
    """Whether the collector makes anything of the intact sample (an OTLP request of another
    agent is no sample of Claude Code's logs)."""
    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput

    data = gzip.compress(seed.data, mtime=0) if seed.gzip else seed.data
    suffix = ".gz" if seed.gzip else ""
    with tempfile.TemporaryDirectory(prefix="agentaudit-seed-") as work:
        path = Path(work) / (seed.name + suffix)
        path.write_bytes(data)
        with path.open("rb") as stream:
            source = SourceInput(str(path), stream)
            return any(True for _ in get_collector(collector_name).collect(source))


def _windows(path: Path, data: bytes) -> list[Seed]:
    """The file itself when small, else windows of lines or records."""
    name, origin, compressed = path.name, str(path), data[:2] == b"\x1f\x8b"
    if compressed:
        data = gzip.decompress(data)
        name = name.removesuffix(".gz")
    if len(data) <= WINDOW_BYTES or data.startswith(b"SQLite format 3"):
        return [Seed(name, data, origin, compressed)]  # a database is mutated whole
    document = _json_document(data)
    rng = random.Random(origin)
    if document is not None:
        return [Seed(name, piece, origin, compressed) for piece in _document_windows(document, rng)]
    lines = data.split(b"\n")
    out = []
    for _ in range(WINDOWS_PER_FILE):
        start = rng.randrange(len(lines))
        window = b"\n".join(lines[start : start + WINDOW_LINES])[:WINDOW_BYTES]
        out.append(Seed(name, window + b"\n", origin, compressed))
    return out


def _json_document(data: bytes) -> object | None:
    if data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _document_windows(document: object, rng: random.Random) -> list[bytes]:
    """A few records of the document's list, in the same container."""
    if isinstance(document, list):
        container, key, items = None, None, document
    elif isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list) and v]
        if not lists:
            return [json.dumps(document).encode()[: WINDOW_BYTES * 8]]
        key = max(lists, key=lambda k: len(document[k]))
        container, items = document, document[key]
    else:
        return []
    out = []
    for _ in range(WINDOWS_PER_FILE):
        start = rng.randrange(len(items))
        piece = items[start : start + rng.randint(1, 5)]
        value = piece if container is None else {**container, key: piece}
        out.append(json.dumps(value).encode())
    return out


_HOOK_AGENTS = {
    "claude-code": "claude-code.hooks",
    "codex": "codex.hooks",
    "cursor": "cursor.hooks",
}


def _payload_files(roots: list[Path]) -> list[Path]:
    files = []
    for root in roots:
        files += sorted(root.glob("agents/*/hooks/*.jsonl")) + sorted(root.glob("cursor/*.json"))
        files += sorted(root.glob("agents/*/otel/*.json"))
        files += sorted(root.glob("agents/gemini/telemetry/otlp-*.json"))
    return files


def _add_wrapped(found: dict[str, list[Seed]], path: Path) -> None:
    """Hook payloads as agentaudit's hook log writes them; OTLP requests as one line each
    (as `serve --spool` writes them, and in its spool's envelope)."""
    text = path.read_text(errors="replace")
    if "otel" in path.parts or "telemetry" in path.parts:
        request = json.loads(text)
        line = json.dumps(request).encode() + b"\n"
        signal = next((s for k, s in _SIGNALS.items() if k in request), "logs")
        for name in _OTLP_COLLECTORS[signal]:
            found[name].append(Seed(f"otlp-{path.stem}.jsonl", line, str(path)))
        spooled = {
            "agentaudit_otlp": 1,
            "signal": signal,
            "request_id": "r1",
            "received_at": "2026-04-24T19:00:00Z",
            "request": request,
        }
        found["otlp.spool"].append(
            Seed("otlp-spool.jsonl", json.dumps(spooled).encode() + b"\n", str(path))
        )
        return
    agent = "cursor" if "cursor" in path.parts else path.parts[-3]
    payloads = (
        [json.loads(text)]
        if path.suffix == ".json"
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    targets = [_HOOK_AGENTS.get(agent, "claude-code.hooks")]
    if agent == "claude-code":
        targets.append("gemini.hooks")  # Gemini CLI's hook payloads follow Claude Code's
    for target in targets:
        logged = target.split(".")[0] if target != "gemini.hooks" else "gemini"
        lines = [
            json.dumps({"received_at": "2026-04-24T19:00:00Z", "agent": logged, "payload": p})
            for p in payloads
        ]
        data = ("\n".join(lines) + "\n").encode()
        found[target] += (
            _windows(Path(f"{logged}-hooks.jsonl"), data)
            if len(data) > WINDOW_BYTES
            else [Seed(f"{logged}-hooks.jsonl", data, str(path))]
        )


_SIGNALS = {"resourceLogs": "logs", "resourceMetrics": "metrics", "resourceSpans": "traces"}
_OTLP_COLLECTORS = {
    "logs": ("claude-code.otel",),
    "metrics": ("agent.otel-metrics",),
    "traces": ("agent.otel-spans",),
}


def _aider(root: Path) -> list[Seed]:
    return [
        Seed(".aider.chat.history.md", p.read_bytes()[: WINDOW_BYTES * 2], str(p))
        for p in sorted(root.glob("aider/*.md"))
    ]


def _commands(roots: list[Path], limit: int = 400) -> list[str]:
    commands: list[str] = []
    for root in roots:
        for path in sorted(root.glob("commands/*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    command = json.loads(line).get("command")
                except (ValueError, AttributeError):
                    continue
                if isinstance(command, str):
                    commands.append(command)
    rng = random.Random(0)
    return rng.sample(commands, min(limit, len(commands))) if commands else ["rm -rf /tmp/x"]


def _guard_lines(roots: list[Path]) -> list[Seed]:
    seeds = []
    commands = _commands(roots, 120)
    for start in range(0, len(commands), 6):
        lines = [
            json.dumps(
                {
                    "guard_decision": ("deny", "ask", "allow")[i % 3],
                    "decided_at": "2026-04-24T19:00:00.123456Z",
                    "agent": "claude-code",
                    "session_id": "s1",
                    "tool_use_id": f"toolu_{start + i}",
                    "tool_name": "Bash",
                    "command": command,
                    "cwd": "/home/dev/shop",
                    "reason": "destructive command",
                    "categories": ["fs_delete"],
                }
            )
            for i, command in enumerate(commands[start : start + 6])
        ]
        seeds.append(Seed("guard-decisions.jsonl", ("\n".join(lines) + "\n").encode(), "commands"))
    return seeds


def _railway_pages() -> list[Seed]:
    events = ("volume.deleted", "service.deleted", "environment.deleted", "variable.updated")
    seeds = []
    for n, event in enumerate(events):
        node = {
            "id": f"n{n}",
            "eventType": event,
            "createdAt": "2026-04-24T19:00:00Z",
            "environmentId": "env-prod-1",
            "environment": {"name": "production"},
            "projectId": "p1",
            "actor": {"email": "dev@example.com"},
        }
        page = {"data": {"auditLogs": {"edges": [{"node": node}, {"node": {**node, "id": "m"}}]}}}
        seeds.append(Seed("railway-audit.json", json.dumps(page).encode(), "railway fields"))
    return seeds


def _cursor_transcripts(roots: list[Path]) -> list[Seed]:
    """Cursor's agent transcripts (role/message lines without time) around real commands."""
    seeds = []
    commands = _commands(roots, 60)
    for start in range(0, len(commands), 3):
        lines = [{"role": "user", "message": {"content": [{"type": "text", "text": "clean"}]}}]
        for command in commands[start : start + 3]:
            use = {"type": "tool_use", "name": "Shell", "input": {"command": command}}
            lines.append({"role": "assistant", "message": {"content": [use]}})
        lines.append({"type": "turn_ended", "status": "success"})
        data = "\n".join(json.dumps(line) for line in lines) + "\n"
        seeds.append(Seed("c1.jsonl", data.encode(), "commands"))
    return seeds


def _codex_session_documents(rollouts: list[Seed]) -> list[Seed]:
    """Codex's legacy `{"session": ..., "items": [...]}` documents, from real rollout items."""
    seeds = []
    for rollout in rollouts:
        items = []
        for line in rollout.data.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            payload = record.get("payload") if isinstance(record, dict) else None
            if isinstance(payload, dict) and record.get("type") == "response_item":
                items.append(payload)
        if items:
            session = {"id": "4b7e1f0a", "timestamp": "2025-06-02T10:00:00Z", "instructions": ""}
            document = json.dumps({"session": session, "items": items[:8]}, indent=2)
            seeds.append(
                Seed("rollout-2025-06-02-4b7e1f0a.json", document.encode(), rollout.origin)
            )
    return seeds
