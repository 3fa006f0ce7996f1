"""Issue 23: the analyst's free SQL (`query`, `sql`, the dashboard) reaches the store only."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.store import Store
from agentaudit.store.views import VIEWS

ESCAPES = [
    "SELECT * FROM read_text('{outside}')",
    "COPY (SELECT 1) TO '{written}'",
    "ATTACH '{written}.duckdb' AS other",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
]


@pytest.fixture
def sandboxed(tmp_path):
    path = tmp_path / "store.duckdb"
    Store.open(path).close()
    with Store.open(path, read_only=True) as store:
        yield store.sandbox(), tmp_path


@pytest.mark.parametrize("statement", ESCAPES)
def test_no_statement_reaches_a_file_or_unlocks_the_sandbox(sandboxed, statement):
    store, tmp_path = sandboxed
    outside = tmp_path / "outside.txt"
    outside.write_text("not the store's", encoding="utf-8")
    written = tmp_path / "written.csv"
    with pytest.raises(duckdb.Error):
        store.query(statement.format(outside=outside, written=written))
    assert not written.exists()
    assert not (tmp_path / "written.csv.duckdb").exists()


def test_every_view_and_the_functions_analysts_use_still_work(sandboxed):
    store, _ = sandboxed
    for view in VIEWS:
        store.query(f"SELECT * FROM {view.name} LIMIT 1")
    row = store.query(
        """SELECT json_extract_string('{"a": "b"}', '$.a') AS a,
                  timezone('Europe/Paris', TIMESTAMPTZ '2026-04-25 10:00:00+00') AS paris"""
    ).to_pylist()[0]
    assert row["a"] == "b" and row["paris"].hour == 12


def test_query_command_refuses_to_write_a_file_in_one_line(tmp_path):
    path = tmp_path / "store.duckdb"
    Store.open(path).close()
    written = tmp_path / "dump.csv"
    result = CliRunner().invoke(
        app, ["query", f"COPY (SELECT 1) TO '{written}'", "--db", str(path)]
    )
    assert result.exit_code != 0
    assert not written.exists()
    assert "Traceback" not in result.output
    assert "disabled by configuration" in result.output
