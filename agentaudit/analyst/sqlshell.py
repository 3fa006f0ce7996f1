"""`agentaudit sql`: an SQL prompt over a read-only store.

Interactive on a terminal (statements end with `;`, dot-commands for help); when stdin is not a
terminal it runs the statements it reads and exits, so scripts and tests use the same path.
Statements are split by DuckDB's own parser (`extract_statements`), not by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb
from rich.console import Console
from rich.markup import escape

from agentaudit.analyst import render
from agentaudit.store import Store
from agentaudit.store.views import VIEWS

HELP = """Statements end with ';'. Dot-commands:
  .tables   tables and views in the store
  .views    the analyst views and what each row is
  .help     this text
  .quit     leave (also Ctrl-D)"""

PROMPT = "agentaudit> "
CONTINUE = "       ...> "


def run_sql(store: Store, text: str, console: Console, limit: int = 200) -> int:
    """Run every statement in `text`, printing each result; returns how many failed."""
    try:
        statements = store.con.extract_statements(text)
    except duckdb.Error as exc:
        console.print(f"[red]error:[/] {escape(str(exc).splitlines()[0])}")
        return 1
    failed = 0
    for statement in statements:
        try:
            relation = store.con.sql(statement.query)
        except duckdb.Error as exc:
            console.print(f"[red]error:[/] {escape(str(exc).splitlines()[0])}")
            failed += 1
            continue
        if relation is None:  # a statement with no result set (SET, PRAGMA ...)
            console.print("[dim]ok[/]")
            continue
        console.print(render.arrow_table(relation.to_arrow_table(), limit=limit))
    return failed


def dot_command(store: Store, command: str, console: Console) -> bool:
    """Handle a dot-command; returns False when the user asked to leave."""
    name = command.strip().split()[0].lower()
    if name in (".quit", ".exit", ".q"):
        return False
    if name == ".tables":
        rows = store.rows(
            """SELECT table_name AS name, table_type AS type FROM information_schema.tables
               ORDER BY table_type, table_name"""
        )
        for row in rows:
            kind = "view" if "VIEW" in row["type"] else "table"
            console.print(f"{row['name']:<24} [dim]{kind}[/]")
    elif name == ".views":
        for view in VIEWS:
            console.print(f"[bold]{view.name}[/]: {escape(view.description)}")
    else:
        console.print(HELP)
    return True


def repl(store: Store, console: Console, read_line: Callable[[str], str] = input) -> None:
    """The interactive loop: `read_line(prompt)` raises EOFError at the end of input."""
    console.print(
        "agentaudit SQL over the store (read-only). Try: [bold]SELECT * FROM incidents;[/] or .help"
    )
    buffer: list[str] = []
    while True:
        try:
            line = read_line(CONTINUE if buffer else PROMPT)
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not buffer and line.strip().startswith("."):
            if not dot_command(store, line, console):
                return
            continue
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if text.endswith(";"):
            buffer.clear()
            run_sql(store, text, console)
        elif not text:
            buffer.clear()


def run_script(store: Store, lines: Iterable[str], console: Console) -> int:
    """Non-interactive: dot-commands on their own line, SQL in between; returns failures."""
    failed = 0
    chunk: list[str] = []
    for line in lines:
        if line.strip().startswith(".") and not chunk:
            if not dot_command(store, line, console):
                break
            continue
        chunk.append(line)
        if line.rstrip().endswith(";"):
            failed += run_sql(store, "".join(chunk), console)
            chunk.clear()
    if "".join(chunk).strip():
        failed += run_sql(store, "".join(chunk), console)
    return failed
