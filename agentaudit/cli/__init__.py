"""The `agentaudit` command: a thin typer layer over library functions.

Each module in this package registers its commands with `register(app)`; adding a command
group is adding a module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Annotated

import typer

from agentaudit.cli import common
from agentaudit.store import StoreError, lock

app = typer.Typer(
    name="agentaudit",
    help="Audit logs and alerts for AI coding agents on real infrastructure.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _options(
    ctx: typer.Context,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait while another process holds the store "
            f"(default 60; also ${lock.TIMEOUT_ENV}).",
            show_default=False,
        ),
    ] = None,
) -> None:
    lock.process_label = f"agentaudit {ctx.invoked_subcommand}"  # named in the holder file
    if lock_timeout is not None:
        os.environ[lock.TIMEOUT_ENV] = str(lock_timeout)  # read by every Store.open in here


_NOT_COMMANDS = {"common"}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_COMMANDS:
        importlib.import_module(f"{__name__}.{_info.name}").register(app)


def main() -> None:
    try:
        app()
    except StoreError as exc:  # a store opened outside `open_store` (watch, serve): one line
        common.err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
