"""Options and output helpers shared by every command.

Imported for `agentaudit --help` and by the hook: typer, rich and the standard library only
(the store and everything heavy are imported inside the functions that need them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentaudit.terminal import make_console, styled

if TYPE_CHECKING:
    from agentaudit.store import Store

DbOption = Annotated[
    Path | None,
    typer.Option("--db", envvar="AGENTAUDIT_DB", help="Store file (default: per-user data dir)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

# Exit codes (README, "Exit codes"): 0 ok, 1 the command ran and reports a failure,
# 2 usage, configuration or input error, 3 `detect --fail-on` found findings at that level.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3

console = make_console()
err_console = make_console(stderr=True)
command_label: str | None = None  # "agentaudit <command>", set by the app's callback


def open_store(db: Path | None, read_only: bool = False) -> Store:
    """The store, migrated if older; waiting (and saying so) while another process holds it.
    Read-only, while `watch` or `serve` owns it: a store whose queries that owner answers.
    Every way it cannot be opened ends the command with one line."""
    from agentaudit.store import Store, StoreError

    if read_only:
        owner = store_owner(db)
        if owner is not None:
            from agentaudit.owner.client import RemoteStore

            return RemoteStore(owner)
    label_store_process()
    try:
        return Store.open(db, read_only=read_only, on_notice=notice)
    except (FileNotFoundError, StoreError) as exc:
        fail(str(exc))
        raise


def store_owner(db: Path | None) -> Any:
    """The `OwnerClient` of the process (`watch`, `serve`) that owns the store, or None."""
    from agentaudit import paths
    from agentaudit.owner.client import owner_for

    return owner_for(db or paths.default_db_path())


def run_command(db: Path | None, command: str, **args: Any) -> Any:
    """A command that writes (`agentaudit.owner.commands`): run by the store's owner when one
    runs, else here on the store; its result either way. A refusal ends with one line."""
    from agentaudit.owner.commands import COMMANDS, CommandRefused

    try:
        owner = store_owner(db)
        if owner is not None:
            return owner.call(command, **args)
        with open_store(db) as store:
            return COMMANDS[command](store, **args)
    except CommandRefused as exc:
        fail(str(exc))


def notice(message: str) -> None:
    """A one-line message about the store (waiting for its lock, migrated) on stderr."""
    err_console.print(styled(message))


def label_store_process() -> None:
    """Name the running command in the store's lock holder file (`agentaudit.store.lock`)."""
    if command_label:
        from agentaudit.store import lock

        lock.process_label = command_label


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, indent=2, ensure_ascii=False) + "\n")


def say(*parts: Any) -> None:
    """One line on stdout; store text in it is shown literally (see agentaudit.terminal)."""
    console.print(styled(*parts))


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """End the command with one line on stderr (the message is shown literally)."""
    err_console.print(styled(("error: ", "red"), message))
    raise typer.Exit(code)


def example(*commands: str) -> str:
    """A command's help epilog: its examples, one per line."""
    return "Examples:\n\n" + "\n\n".join(f"  $ {c}" for c in commands)
