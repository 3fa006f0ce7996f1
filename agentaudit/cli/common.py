"""Options and output helpers shared by every command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from agentaudit.store import Store, StoreError

DbOption = Annotated[
    Path | None,
    typer.Option("--db", envvar="AGENTAUDIT_DB", help="Store file (default: per-user data dir)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

console = Console()
err_console = Console(stderr=True)


def open_store(db: Path | None, read_only: bool = False) -> Store:
    """The store, migrated if older; waiting (and saying so) while another process holds it.
    Every way it cannot be opened ends the command with one line."""
    try:
        return Store.open(db, read_only=read_only, on_notice=notice)
    except (FileNotFoundError, StoreError) as exc:
        fail(str(exc))
        raise


def notice(message: str) -> None:
    """A one-line message about the store (waiting for its lock, migrated) on stderr."""
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, indent=2, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/] {message}", soft_wrap=True)  # one line, however long
    raise typer.Exit(code)
