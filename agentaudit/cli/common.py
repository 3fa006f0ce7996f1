"""Options and output helpers shared by every command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from agentaudit.store import Store

DbOption = Annotated[
    Path | None,
    typer.Option("--db", envvar="AGENTAUDIT_DB", help="Store file (default: per-user data dir)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

console = Console()
err_console = Console(stderr=True)


def open_store(db: Path | None, read_only: bool = False) -> Store:
    try:
        return Store.open(db, read_only=read_only)
    except FileNotFoundError as exc:
        fail(str(exc))
        raise


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, indent=2, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)
