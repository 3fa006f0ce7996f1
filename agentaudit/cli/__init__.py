"""The `agentaudit` command: a thin typer layer over library functions.

Each module in this package registers its commands with `register(app)`; adding a command
group is adding a module. Command modules import only typer, rich and `cli.common` at the
top: `--help`, `--version` and `hook` must not load the store, the model or the rule engine
(tests/test_cli_startup.py checks it); each command imports what it needs when it runs.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Annotated

import typer

from agentaudit.cli import common, errors
from agentaudit.cli.common import EXIT_USAGE, err_console
from agentaudit.terminal import styled

LOCK_TIMEOUT_ENV = "AGENTAUDIT_LOCK_TIMEOUT"  # agentaudit.store.lock.TIMEOUT_ENV, not imported here

app = typer.Typer(
    name="agentaudit",
    help="Audit logs and alerts for AI coding agents on real infrastructure.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    epilog="Exit codes: 0 ok, 1 the command reports a failure, 2 bad usage, input or "
    "configuration, 3 `detect --fail-on` found findings at that severity.",
)


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    python = ".".join(map(str, sys.version_info[:3]))
    return f"agentaudit {of('agentaudit')} (duckdb {of('duckdb')}, Python {python})"


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(version_text() + "\n")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait while another process holds the store "
            f"(default 60; also ${LOCK_TIMEOUT_ENV}).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version (and DuckDB's) and exit.",
        ),
    ] = False,
) -> None:
    # named in the store's lock holder file when the command opens the store
    common.command_label = f"agentaudit {ctx.invoked_subcommand}"
    if lock_timeout is not None:
        os.environ[LOCK_TIMEOUT_ENV] = str(lock_timeout)  # read by every Store.open in here


_NOT_COMMANDS = {"common", "errors"}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_COMMANDS:
        importlib.import_module(f"{__name__}.{_info.name}").register(app)


def main() -> None:
    try:
        app()
    except Exception as exc:
        message = None if errors.debugging() else errors.describe(exc)
        if message is None:
            raise  # a bug: its traceback (typer's) is what to report
        err_console.print(styled(("error: ", "red"), message))
        sys.exit(EXIT_USAGE)
