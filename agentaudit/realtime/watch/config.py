"""`agentaudit watch` configuration: one YAML file.

    db: ~/agentaudit/agentaudit.duckdb     # optional; default: the per-user store
    sources:
      - type: files                        # tail files as they grow (watchfiles + checkpoints)
        paths: [~/.zsh_history, "~/work/*/logs/*.jsonl", ~/.cursor/agentaudit-hooks/]
    hook_log: true                         # also tail `agentaudit hook` logs (hook_log_dir())
    guard_log: true                        # also tail guard decisions (an audit event each)
    notify: ["json://127.0.0.1:9000/alerts"]   # apprise URLs
    window_seconds: 600                    # context for incremental detection
    context: notable                       # notable events of the window (or: all)
    settle_seconds: 2                      # a sessionless line waits this long for its agent call
    poll_seconds: 0.5                      # re-check sources and settle timers at least this often
    debounce_ms: 20
    db_threads: 1                          # DuckDB threads of the service (0: DuckDB's default)
    health: {host: 127.0.0.1, port: 8787}  # GET /healthz; port 0 or null: no endpoint
    guard: {socket: ~/.local/share/agentaudit/guard.sock}   # resident guard helper; null: off
    telemetry: {console: false, otlp_endpoint: null, interval_seconds: 10}
    source_check_seconds: 60               # how often silent sources are looked for (source-silent)

`paths:` at the top level is shorthand for one `files` source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentaudit.listener import check_exposure


@dataclass
class TelemetryConfig:
    console: bool = False
    otlp_endpoint: str | None = None
    interval_seconds: float = 10.0


@dataclass
class WatchConfig:
    db: Path | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    hook_log: bool = True
    guard_log: bool = True
    notify: list[str] = field(default_factory=list)
    window_seconds: float = 600.0
    context: str = "notable"  # or "all": every event of the window is detection context
    settle_seconds: float = 2.0
    poll_seconds: float = 0.5
    debounce_ms: int = 20
    # DuckDB threads once started: a pass is dozens of small queries, which a second thread
    # only adds scheduling to; a background service also leaves the cores alone.
    db_threads: int = 1
    health_host: str = "127.0.0.1"
    health_port: int | None = None
    health_token: str | None = None  # required off loopback (listener.check_exposure)
    guard_socket: Path | bool | None = True  # True: the default socket path
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    source_check_seconds: float = 60.0  # the clock of the `on_clock` detectors (source-silent)


def _path(value: Any) -> Path | None:
    return Path(str(value)).expanduser() if value else None


def config_from_dict(data: dict[str, Any]) -> WatchConfig:
    known = {
        "db", "sources", "paths", "hook_log", "guard_log", "notify", "window_seconds", "context",
        "settle_seconds", "poll_seconds", "debounce_ms", "health", "guard", "telemetry",
        "db_threads", "source_check_seconds",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown watch settings: {', '.join(sorted(unknown))}")
    sources = list(data.get("sources") or [])
    if data.get("paths"):
        sources.insert(0, {"type": "files", "paths": list(data["paths"])})
    for source in sources:
        if not isinstance(source, dict) or "type" not in source:
            raise ValueError(f"a source needs a type: {source!r}")
    health = data.get("health") or {}
    check_exposure(str(health.get("host", "127.0.0.1")), health.get("token"), "health")
    guard = data.get("guard", {})
    telemetry = data.get("telemetry") or {}
    notify = data.get("notify") or []
    return WatchConfig(
        db=_path(data.get("db")),
        sources=sources,
        hook_log=bool(data.get("hook_log", True)),
        guard_log=bool(data.get("guard_log", True)),
        notify=[notify] if isinstance(notify, str) else list(notify),
        window_seconds=float(data.get("window_seconds", 600)),
        context=_context(data.get("context", "notable")),
        settle_seconds=float(data.get("settle_seconds", 2)),
        poll_seconds=float(data.get("poll_seconds", 0.5)),
        debounce_ms=int(data.get("debounce_ms", 20)),
        db_threads=int(data.get("db_threads", 1)),
        source_check_seconds=float(data.get("source_check_seconds", 60)),
        health_host=str(health.get("host", "127.0.0.1")),
        health_port=health.get("port"),
        health_token=str(health["token"]) if health.get("token") else None,
        guard_socket=_guard_socket(guard),
        telemetry=TelemetryConfig(
            console=bool(telemetry.get("console", False)),
            otlp_endpoint=telemetry.get("otlp_endpoint"),
            interval_seconds=float(telemetry.get("interval_seconds", 10)),
        ),
    )


def _context(value: str) -> str:
    if value not in ("notable", "all"):
        raise ValueError(f"context must be notable or all, not {value!r}")
    return value


def _guard_socket(guard: dict[str, Any] | None) -> Path | bool | None:
    if guard is None or guard.get("enabled") is False:
        return None
    return _path(guard.get("socket")) or True


def load_config(path: Path) -> WatchConfig:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the watch config is a YAML mapping")
    return config_from_dict(data)
