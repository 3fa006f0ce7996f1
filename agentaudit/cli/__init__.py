"""The `agentaudit` command: a thin typer layer over library functions.

Each module in this package registers its commands with `register(app)`; adding a command
group is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="agentaudit",
    help="Audit logs and alerts for AI coding agents on real infrastructure.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

_NOT_COMMANDS = {"common"}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_COMMANDS:
        importlib.import_module(f"{__name__}.{_info.name}").register(app)


def main() -> None:
    app()
