"""`agentaudit sql`: an SQL prompt over a read-only store.

Interactive on a terminal (statements end with `;`, dot-commands for help); when stdin is not a
terminal it runs the statements it reads and exits, so scripts and tests use the same path.
Statements are split by DuckDB's own parser (`extract_statements`), not by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import duckdb
from rich.console import Console

from agentaudit.analyst import render
from agentaudit.store import Store
from agentaudit.store.views import VIEWS
from agentaudit.terminal import evidence, styled

HELP = """Statements end with ';'. Dot-commands:
  .tables   tables and views in the store
  .views    the analyst views and what each row is
  .help     this text
  .quit     leave (also Ctrl-D)"""

PROMPT = "agentaudit> "
CONTINUE = "       ...> "


def run_sql(
    store: Store, text: str, console: Console, limit: int = 200, as_json: bool = False
) -> int:
    """Run every statement in `text`, printing each result; returns how many failed.

    With `as_json`, one JSON object per statement (JSON Lines): {"rows": [...]} or
    {"error": "..."}; every row, no limit."""

    def error(exc: duckdb.Error) -> None:
        message = str(exc).splitlines()[0]
        if as_json:
            console.file.write(json.dumps({"error": message}) + "\n")
        else:
            console.print(styled(("error: ", "red"), message))

    try:
        statements = store.con.extract_statements(text)
    except duckdb.Error as exc:
        error(exc)
        return 1
    failed = 0
    for statement in statements:
        try:
            relation = store.con.sql(statement.query)
        except duckdb.Error as exc:
            error(exc)
            failed += 1
            continue
        if as_json:
            rows = [] if relation is None else relation.to_arrow_table().to_pylist()
            console.file.write(json.dumps({"rows": rows}, default=str, ensure_ascii=False) + "\n")
        elif relation is None:  # a statement with no result set (SET, PRAGMA ...)
            console.print(styled(("ok", "dim")))
        else:
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
            console.print(styled(f"{row['name']:<24} ", (kind, "dim")))
    elif name == ".views":
        for view in VIEWS:
            console.print(styled((view.name, "bold"), f": {view.description}"))
    else:
        console.print(evidence(HELP))
    return True


def repl(store: Store, console: Console, read_line: Callable[[str], str] = input) -> None:
    """The interactive loop: `read_line(prompt)` raises EOFError at the end of input."""
    console.print(
        styled(
            "agentaudit SQL over the store (read-only). Try: ",
            ("SELECT * FROM incidents;", "bold"),
            " or .help",
        )
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


def run_script(store: Store, lines: Iterable[str], console: Console, as_json: bool = False) -> int:
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
            failed += run_sql(store, "".join(chunk), console, as_json=as_json)
            chunk.clear()
    if "".join(chunk).strip():
        failed += run_sql(store, "".join(chunk), console, as_json=as_json)
    return failed
