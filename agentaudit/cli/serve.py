"""serve: receive Claude Code OpenTelemetry events over OTLP/HTTP (POST /v1/logs)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import DbOption, console, fail, open_store
from agentaudit.receivers.otlp import OtlpReceiver, default_spool_dir
from agentaudit.store import Store


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (OTLP/HTTP default 4318).")] = 4318,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="AGENTAUDIT_OTLP_TOKEN",
            help="Bearer token clients must send (required off loopback).",
        ),
    ] = None,
    db: DbOption = None,
    spool: Annotated[
        bool,
        typer.Option(
            "--spool",
            help="Append requests to <data dir>/otlp/*.jsonl for `ingest --discover` "
            "instead of holding the store open.",
        ),
    ] = False,
) -> None:
    """Store claude_code.* OTLP log events (protobuf or JSON, gzip or not) as canonical events."""
    if spool:
        _serve(None, host, port, token, default_spool_dir())
        return
    with open_store(db) as store:
        _serve(store, host, port, token, None)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(
    store: Store | None, host: str, port: int, token: str | None, spool_dir: Path | None
) -> None:
    try:
        receiver = OtlpReceiver(store, host=host, port=port, token=token, spool_dir=spool_dir)
    except (ValueError, OSError) as exc:
        fail(str(exc))
        raise
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop ends it like Ctrl-C
    where = f", spooling to {spool_dir}" if spool_dir else ""
    console.print(f"listening on {receiver.url}{where} (Ctrl-C to stop)")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.close()
    verb = "spooled" if spool_dir else "stored"
    console.print(f"{verb} {receiver.stats.stored} events from {receiver.stats.requests} requests")
