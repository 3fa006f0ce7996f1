"""serve: receive coding agents' OpenTelemetry logs, metrics and traces over OTLP/HTTP."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentaudit.cli.common import DbOption, JsonOption, example, fail, open_store, print_json, say

if TYPE_CHECKING:
    from agentaudit.store import Store


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit serve",
            "AGENTAUDIT_OTLP_TOKEN=... agentaudit serve --host 0.0.0.0 --spool --json",
        )
    )(serve)


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
    max_body_mb: Annotated[
        float, typer.Option(help="Largest request body accepted, after decompression (MB).")
    ] = 8.0,
    request_timeout: Annotated[
        float, typer.Option(help="Seconds a client has to send a whole request.")
    ] = 30.0,
    idle_timeout: Annotated[
        float, typer.Option(help="Seconds an idle keep-alive connection is kept open.")
    ] = 15.0,
    json: JsonOption = False,
) -> None:
    """Store coding agents' OTLP logs, metrics and traces (protobuf or JSON; gzip, zstd or
    none) as canonical events; each record goes to the collector that reads it, and what none
    reads is answered in `partial_success` and quarantined. One process owns a store: run
    several instances with a store (or --spool directory) each."""
    from agentaudit.receivers.otlp import default_spool_dir, load_server

    try:
        server = load_server()
    except ImportError as exc:
        fail(str(exc))
        raise
    options = {
        "host": host,
        "port": port,
        "token": token,
        "max_body": int(max_body_mb * 1024 * 1024),
        "request_timeout": request_timeout,
        "idle_timeout": idle_timeout,
    }
    if spool:
        _serve(server, None, default_spool_dir(), options, json)
        return
    with open_store(db) as store:
        _serve(server, store, None, options, json)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(
    server: ModuleType,
    store: Store | None,
    spool_dir: Path | None,
    options: dict[str, Any],
    json: bool,
) -> None:
    try:
        receiver = server.OtlpReceiver(store, spool_dir=spool_dir, **options).start()
    except (ValueError, OSError) as exc:
        fail(str(exc))
        raise
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop ends it like Ctrl-C
    where = f", spooling to {spool_dir}" if spool_dir else ""
    base = receiver.endpoint("").removesuffix("/")
    if json:
        print_json({"listening": base, "spool": str(spool_dir) if spool_dir else None})
        sys.stdout.flush()
    else:
        say(f"listening on {base}/{{logs,metrics,traces}}{where} (Ctrl-C to stop)")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.close()
    stats = receiver.stats
    verb = "spooled" if spool_dir else "stored"
    refused = sum(stats.rejected_requests.values())
    if json:
        print_json(
            {"events": stats.stored, "requests": stats.requests, "spooled": bool(spool_dir),
             "rejected_records": stats.rejected_records, "refused_requests": refused}
        )  # fmt: skip
        return
    say(
        f"{verb} {stats.stored} events from {stats.requests} requests; "
        f"{stats.rejected_records} records rejected (quarantined), {refused} requests refused"
    )
