"""Fill the enriched columns of rows stored before enrichment wrote them (a migration's step).

`origin`, and `provider` of an audit log's rows, come from the collector registry by source;
`argvs` and a command's `provider` from command analysis, once per distinct (command, cwd);
`env_clues` from a row's command and raw record; `instructions` from the user's prompts.
`env_hints` stay empty: they are the collectors' own, and the `target_env` they would have
fed was stored with the row. Commands and records are read as stored (already redacted),
which is what enrichment analyses too, so a filled row equals a newly ingested one.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from agentaudit.collectors import all_collectors
from agentaudit.enrich.commands import analyze_command
from agentaudit.enrich.environments import env_clues
from agentaudit.enrich.event import user_prompt_instructions

_STRS = pa.list_(pa.string())
# rows whose command or record can hold an environment clue (env_clues decides)
_CLUE_MARKS = (
    "On branch |git checkout|git switch|RAILWAY_ENVIRONMENT=|Environment: |"
    "railway environment |--profile|AWS_PROFILE="
)


def fill_enriched_columns(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Fill the columns where they are NULL; returns how many rows each step filled."""
    return {
        "origin": _origins(con),
        "argvs": _commands(con),
        "env_clues": _clues(con),
        "instructions": _instructions(con),
    }


def _origins(con: duckdb.DuckDBPyConnection) -> int:
    sources: dict[str, tuple[str, str | None]] = {}
    for collector in all_collectors().values():
        sources.setdefault(collector.source, (collector.origin, collector.vendor))
    table = pa.table(
        {
            "source": list(sources),
            "origin": [o for o, _ in sources.values()],
            "vendor": [v for _, v in sources.values()],
        }
    )
    return _update(
        con,
        table,
        """UPDATE events SET origin = u.origin, provider = coalesce(events.provider, u.vendor)
           FROM {u} u WHERE events.source = u.source AND events.origin IS NULL""",
    )


def _commands(con: duckdb.DuckDBPyConnection) -> int:
    pairs = con.execute(
        """SELECT DISTINCT command, cwd FROM events
           WHERE kind = 'process' AND command IS NOT NULL AND argvs IS NULL"""
    ).fetchall()
    analyses = [analyze_command(command, cwd=cwd or None) for command, cwd in pairs]
    table = pa.table(
        {
            "command": [c for c, _ in pairs],
            "cwd": [w for _, w in pairs],
            "argvs": [[list(a) for a in found.argvs] or None for found in analyses],
            "provider": [found.provider for found in analyses],
        },
        schema=pa.schema(
            [("command", pa.string()), ("cwd", pa.string()), ("argvs", pa.list_(_STRS)),
             ("provider", pa.string())]
        ),
    )  # fmt: skip
    return _update(
        con,
        table,
        """UPDATE events SET argvs = u.argvs, provider = coalesce(events.provider, u.provider)
           FROM {u} u WHERE events.kind = 'process' AND events.argvs IS NULL
            AND events.command = u.command AND events.cwd IS NOT DISTINCT FROM u.cwd""",
    )


def _clues(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute(
        f"""SELECT event_id, command, raw FROM events
            WHERE origin IN ('agent', 'shell') AND env_clues IS NULL
              AND regexp_matches(concat_ws(' ', command, raw), '{_CLUE_MARKS}')"""
    ).fetchall()
    return _by_event(con, "env_clues", [(e, env_clues(c, r) or None) for e, c, r in rows])


def _instructions(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute(
        """SELECT event_id, kind, operation, text FROM events
           WHERE kind = 'message' AND text IS NOT NULL AND instructions IS NULL
             AND (operation ILIKE '%user%' OR operation ILIKE '%prompt%')"""
    ).fetchall()
    found = [
        (event_id, user_prompt_instructions({"kind": k, "operation": o, "text": t}))
        for event_id, k, o, t in rows
    ]
    return _by_event(con, "instructions", found)


def _by_event(con: duckdb.DuckDBPyConnection, column: str, values: list[Any]) -> int:
    values = [(event_id, value) for event_id, value in values if value]
    table = pa.table(
        {"event_id": [e for e, _ in values], "value": [v for _, v in values]},
        schema=pa.schema([("event_id", pa.string()), ("value", _STRS)]),
    )
    return _update(
        con,
        table,
        f"UPDATE events SET {column} = u.value FROM {{u}} u WHERE events.event_id = u.event_id",
    )


def _update(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> int:
    if not table.num_rows:
        return 0
    name = "_agentaudit_backfill"
    con.register(name, table)
    try:
        return int(con.execute(sql.format(u=name)).fetchall()[0][0])
    finally:
        con.unregister(name)
