"""The README's `duckdb <store>` and Python's `duckdb.connect` open a store agentaudit wrote."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest
from packaging.requirements import Requirement

from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store, migrations

REPO = Path(__file__).resolve().parents[2]


def _store_with_events(path: Path, redactor) -> int:
    with Store.open(path) as store:
        ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
        return store.count("events")


def _readme_duckdb_command() -> list[str]:
    """The command the README gives, e.g. ['duckdb', '~/.local/share/agentaudit/...']."""
    found = re.search(r"`(duckdb [^`]+\.duckdb)`", (REPO / "README.md").read_text())
    assert found, "the README names no `duckdb <store>` command"
    return found[1].split()


def _duckdb_cli() -> str:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    binary = shutil.which("duckdb", path=path)
    if binary is None:
        pytest.skip("no duckdb CLI on PATH (pip install duckdb-cli; the dev extra has it)")
    return binary


def test_the_readmes_duckdb_command_opens_the_store(tmp_path, redactor):
    db = tmp_path / "agentaudit.duckdb"
    events = _store_with_events(db, redactor)
    program, *_path = _readme_duckdb_command()
    sql = (
        ".mode csv\n"
        "SELECT (SELECT count(*) FROM events) AS events,"
        " (SELECT count(*) FROM event_sessions) AS event_sessions,"
        " (SELECT count(*) FROM destructive_events) >= 1 AS destructive,"
        " (SELECT max(version) FROM schema_version) AS version;\n"
    )
    result = subprocess.run(
        [_duckdb_cli(), str(db)], input=sql, capture_output=True, text=True, timeout=120
    )
    assert program == "duckdb"
    assert result.returncode == 0, result.stderr
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row == {
        "events": str(events),
        "event_sessions": str(events),
        "destructive": "true",
        "version": str(migrations.LATEST),
    }
    with Store.open(db) as store:  # and agentaudit goes on with it afterwards
        assert store.count("events") == events


def test_pythons_duckdb_connect_opens_the_store_read_only(tmp_path, redactor):
    db = tmp_path / "agentaudit.duckdb"
    events = _store_with_events(db, redactor)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM event_sessions").fetchall() == [(events,)]
    finally:
        con.close()


def test_the_pinned_duckdb_reads_every_store_agentaudit_wrote(tmp_path):
    """Earlier releases let DuckDB 2 write its own format, which no DuckDB 1.x reads: the pin
    keeps 1.x out, and the installed DuckDB reads both formats."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(Requirement(d) for d in dependencies if Requirement(d).name == "duckdb")
    assert not pin.specifier.contains("1.5.6")
    assert pin.specifier.contains(duckdb.__version__)
    for storage in ("v1.5.0", "latest"):
        path = tmp_path / f"{storage}.duckdb"
        duckdb.connect(str(path), config={"storage_compatibility_version": storage}).close()
        with Store.open(path) as store:
            assert migrations.stored_version(store.con) == migrations.LATEST
