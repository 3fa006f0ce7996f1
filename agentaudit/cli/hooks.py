"""hook: record an agent hook payload (stdin) in the local hook log."""

from __future__ import annotations

from typing import Annotated

import typer

from agentaudit.cli.common import example
from agentaudit.receivers.hook import AGENTS, run  # standard library only: the hook stays quick


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit hook claude-code < payload.json",
            "agentaudit-hook cursor   # the same, without the CLI's start-up",
        )
    )(hook)


def hook(
    agent: Annotated[str, typer.Argument(help=f"Which agent calls: {', '.join(AGENTS)}.")],
) -> None:
    """Append the hook payload on stdin to the hook log; prints nothing, always exits 0
    (so it has no --json).

    For the lowest latency install `agentaudit-hook <agent>` (or `python -m agentaudit.receivers.hook`)
    as the hook command instead: same function, without the CLI's start-up.
    """
    raise typer.Exit(run(agent))
