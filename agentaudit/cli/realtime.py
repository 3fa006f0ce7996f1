"""watch, guard, guard-serve: the real-time commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import (
    DbOption,
    JsonOption,
    err_console,
    example,
    fail,
    label_store_process,
    print_json,
)
from agentaudit.terminal import styled


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit watch --path ~/.claude/projects --notify 'ntfy://alerts'",
            "agentaudit watch --config watch.yml --health-port 9464",
        )
    )(watch)
    app.command(
        epilog=example(
            "agentaudit guard --agent claude-code   # in .claude/settings.json PreToolUse hooks"
        )
    )(guard)
    app.command(
        "guard-serve", epilog=example("agentaudit guard-serve", "agentaudit guard-serve --json")
    )(guard_serve)


def watch(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config (see docs/REALTIME.md).")
    ] = None,
    path: Annotated[
        list[str] | None, typer.Option("--path", help="File, directory or glob to tail.")
    ] = None,
    notify: Annotated[list[str] | None, typer.Option(help="apprise URL to page.")] = None,
    health_port: Annotated[int | None, typer.Option(help="Serve GET /healthz here.")] = None,
    db: DbOption = None,
    json: Annotated[
        bool, typer.Option("--json", help="Print the start-up line as JSON (stdout).")
    ] = False,
) -> None:
    """Tail sources as they grow, detect on each batch, page at once; SIGTERM stops cleanly."""
    from agentaudit.realtime.watch.config import WatchConfig, load_config
    from agentaudit.realtime.watch.service import Watcher

    try:
        settings = load_config(config) if config else WatchConfig()
    except (OSError, ValueError) as exc:
        fail(str(exc))
        raise
    if path:
        settings.sources.insert(0, {"type": "files", "paths": list(path)})
    settings.notify += list(notify or [])
    if health_port is not None:
        settings.health_port = health_port
    if db is not None:
        settings.db = db
    import logging
    import os

    from agentaudit.enrich.secrets import SecretFilter

    logging.basicConfig(
        level=os.environ.get("AGENTAUDIT_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    for handler in logging.getLogger().handlers:  # no secret in the log, whatever a message quotes
        handler.addFilter(SecretFilter())
    label_store_process()
    try:
        watcher = Watcher(settings)
    except ValueError as exc:  # a source's settings (or a missing extra) as one line
        fail(str(exc))
        raise
    if json:
        print_json(
            {"sources": len(watcher.sources), "store": str(watcher.store.path),
             "health_port": settings.health_port}
        )  # fmt: skip
        sys.stdout.flush()
    else:
        err_console.print(
            f"agentaudit watch: {len(watcher.sources)} sources, store {watcher.store.path}"
            + (f", health on :{settings.health_port}" if settings.health_port else "")
        )
    if watcher.alerting is None or not any(
        r.targets() for r in watcher.alerting.receivers.values()
    ):
        err_console.print(
            styled(
                ("no alert target configured: findings will page NOBODY", "bold red"),
                " (write alerting.yml or pass --notify URL; README, Alerting)",
            ),
            soft_wrap=True,
        )
    watcher.run()


def guard(
    agent: Annotated[str, typer.Option(help="claude-code, cursor or codex.")],
    timeout: Annotated[float | None, typer.Option(help="Seconds before answering ask.")] = None,
) -> None:
    """Hook: read the pending call on stdin, answer allow/ask/deny in the agent's format.

    Its stdout is the agent's hook protocol (already JSON), so it has no --json. For the
    lowest latency install the `agentaudit-guard` script in hooks instead (same arguments,
    no CLI start-up cost)."""
    from agentaudit.realtime.guard.client import main as guard_main

    args = ["--agent", agent] + (["--timeout", str(timeout)] if timeout else [])
    raise typer.Exit(guard_main(args))


def guard_serve(
    socket: Annotated[Path | None, typer.Option(help="Socket path (default: per-user).")] = None,
    json: JsonOption = False,
) -> None:
    """Run the resident guard helper alone (when `watch` is not running)."""
    import signal
    import threading

    from agentaudit.realtime.guard.server import GuardServer, default_socket_path
    from agentaudit.realtime.guard.service import Guard, read_only_store_connection

    path = socket or default_socket_path()
    # Without watch, the store is opened read-only per call (it may be in use by an ingest).
    server = GuardServer(
        path, Guard(connect=read_only_store_connection, decided_by="helper", close_connections=True)
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    if json:
        print_json({"socket": str(path)})
        sys.stdout.flush()
    else:
        print(f"agentaudit guard helper listening on {path}", file=sys.stderr, flush=True)
    stop.wait()
    server.stop()
