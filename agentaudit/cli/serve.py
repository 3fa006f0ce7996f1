"""serve: receive Claude Code OpenTelemetry events over OTLP/HTTP (POST /v1/logs)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentaudit.cli.common import DbOption, console, fail, open_store
from agentaudit.otlp import OtlpReceiver


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
) -> None:
    """Store claude_code.* OTLP log events (protobuf or JSON, gzip or not) as canonical events."""
    with open_store(db) as store:
        try:
            receiver = OtlpReceiver(store, host=host, port=port, token=token)
        except (ValueError, OSError) as exc:
            fail(str(exc))
            raise
        console.print(f"listening on {receiver.url} (Ctrl-C to stop)")
        try:
            receiver.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            receiver.close()
        console.print(
            f"stored {receiver.stats.stored} events from {receiver.stats.requests} requests"
        )
