"""The typed rows say what the tables hold: EventRow is EVENT_COLUMNS, FindingRow is `findings`."""

from __future__ import annotations

import types
import typing
from datetime import datetime

import pyarrow as pa

from agentaudit.schema import EVENT_COLUMNS, EVENT_SCHEMA, EventRow, FindingRow, new_event

PYTHON_TYPE = {  # the Python value an Arrow column type holds
    pa.string(): str,
    pa.int64(): int,
    pa.int32(): int,
    pa.bool_(): bool,
    pa.timestamp("us", tz="UTC"): datetime,
    pa.list_(pa.string()): list[str],
    pa.list_(pa.list_(pa.string())): list[list[str]],
}
DUCKDB_TYPE = {
    "VARCHAR": str,
    "TIMESTAMP WITH TIME ZONE": datetime,
    "VARCHAR[]": list[str],
    "BIGINT": int,
    "INTEGER": int,
    "BOOLEAN": bool,
}


def without_none(hint: object) -> object:
    if isinstance(hint, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def test_event_row_is_the_event_columns_in_order_with_their_types():
    hints = typing.get_type_hints(EventRow)
    assert list(hints) == [name for name, _, _ in EVENT_COLUMNS]
    assert {name: without_none(hint) for name, hint in hints.items()} == {
        name: PYTHON_TYPE[typ] for name, typ, _ in EVENT_COLUMNS
    }


def test_new_event_builds_every_key_of_the_row():
    event = new_event("shell.zsh", "k", command="ls")
    assert list(event) == list(EventRow.__annotations__) == list(EVENT_SCHEMA.names)


def test_finding_row_is_the_stored_findings_table(store):
    columns = store.rows("DESCRIBE findings")
    hints = typing.get_type_hints(FindingRow)
    assert list(hints) == [c["column_name"] for c in columns]
    assert {name: without_none(hint) for name, hint in hints.items()} == {
        c["column_name"]: DUCKDB_TYPE[c["column_type"]] for c in columns
    }
