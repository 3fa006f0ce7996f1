"""The owner API in one process: a real store file, a real unix socket, the CLI in-process.

The owner (`OwnerServer`) holds the store writable, as `watch` does; every command below
would otherwise fail on DuckDB's lock. Output is compared with the same command on a copy of
the store opened directly (`watch` and `serve` as subprocesses: tests/test_owner_api.py).
"""

from __future__ import annotations

import os
import shutil
import stat

import duckdb
import pytest
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.ingest import ingest_paths
from agentaudit.owner.client import RemoteStore, owner_for
from agentaudit.owner.server import OwnerServer
from agentaudit.pipeline import detect_alert_deliver
from agentaudit.scenarios import scenario_path
from agentaudit.store import Store

SESSION = "8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"


@pytest.fixture(scope="module")
def pocketos_store(tmp_path_factory):
    """A store that ingested and detected the PocketOS scenario (built once)."""
    path = tmp_path_factory.mktemp("pocketos") / "store.duckdb"
    with Store.open(path) as store:
        ingest_paths(store, [scenario_path("pocketos")])
        detect_alert_deliver(store, [])
    return path


@pytest.fixture
def owned(tmp_path, pocketos_store):
    """(owned store path, a copy of the same store for reference) with the owner running."""
    owned_path, reference = tmp_path / "owned.duckdb", tmp_path / "reference.duckdb"
    shutil.copy(pocketos_store, owned_path)
    shutil.copy(pocketos_store, reference)
    store = Store.open(owned_path)
    server = OwnerServer(store, command="agentaudit watch").start()
    try:
        yield owned_path, reference
    finally:
        server.stop()
        store.close()


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_the_socket_is_private_and_found_beside_the_store(owned):
    path, _ = owned
    client = owner_for(path)
    assert client is not None and client.command == "agentaudit watch"
    assert stat.S_IMODE(os.stat(client.socket_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.with_name(path.name + ".owner")).st_mode) == 0o600


def test_without_an_owner_nothing_is_found(tmp_path, pocketos_store):
    assert owner_for(pocketos_store) is None
    # a stale owner file (the owner was killed) is ignored
    stale = pocketos_store.with_name(pocketos_store.name + ".owner")
    stale.write_text('{"pid": 1, "socket": "' + str(tmp_path / "gone.sock") + '"}')
    try:
        assert owner_for(pocketos_store) is None
    finally:
        stale.unlink()


@pytest.mark.parametrize(
    "args",
    [
        ["timeline", "--session", SESSION],
        ["timeline", "--session", SESSION, "--json"],
        ["incidents", "list"],
        ["incidents", "list", "--json"],
        ["alert", "list", "--json"],
        ["query", "SELECT source, count(*) AS n FROM events GROUP BY ALL ORDER BY source"],
        ["query", "SELECT * FROM destructive_events ORDER BY time", "--json"],
        ["silence", "list", "--all", "--json"],
    ],
)
def test_readers_get_what_a_direct_open_gives(owned, args):
    path, reference = owned
    assert cli(*args, "--db", str(path)) == cli(*args, "--db", str(reference))


def test_incidents_show_and_ack_and_silence_through_the_owner(owned):
    path, reference = owned
    incident = Store.open(reference, read_only=True)
    try:
        alert_id = incident.rows("SELECT alert_id FROM alerts")[0]["alert_id"]
    finally:
        incident.close()
    for args in (["incidents", "show", alert_id[:8]], ["incidents", "show", alert_id, "--json"]):
        assert cli(*args, "--db", str(path)) == cli(*args, "--db", str(reference))
    ack = ["alert", "ack", alert_id[:8], "--by", "oncall", "--json"]
    assert cli(*ack, "--db", str(path)) == cli(*ack, "--db", str(reference))
    add = ["silence", "add", "--match", "rule_id=destructive-burst", "--for", "2h",
           "--comment", "migration", "--by", "oncall"]  # fmt: skip
    code, out = cli(*add, "--db", str(path))
    assert code == 0 and out.startswith("silence ")
    silence_id = out.split()[1]
    code, out = cli("silence", "expire", silence_id[:8], "--db", str(path))
    assert code == 0 and "expired at" in out
    # what the owner wrote is in the owner's store, and a second ack of a wrong id is one line
    code, out = cli("alert", "ack", "ffffffff", "--db", str(path))
    assert code == 2 and "Traceback" not in out and "match" in out
    with owner_store(path) as store:
        rows = store.rows("SELECT acknowledged_by FROM alerts WHERE alert_id = ?", [alert_id])
        assert rows == [{"acknowledged_by": "oncall"}]
        assert store.count("silences") == 1


def owner_store(path):
    client = owner_for(path)
    assert client is not None
    return RemoteStore(client)


def test_ingest_is_run_by_the_owner(owned, tmp_path):
    path, reference = owned
    extra = tmp_path / "extra"
    extra.mkdir()
    history = extra / ".zsh_history"
    history.write_text(": 1777060000:0;ls -la\n: 1777060001:0;git status\n")
    args = ["ingest", str(history), "--source", "shell.zsh", "--json"]
    assert cli(*args, "--db", str(path)) == cli(*args, "--db", str(reference))
    with owner_store(path) as store:
        assert store.count("events") == Store.open(reference, read_only=True).count("events")


ESCAPES = [
    "SELECT * FROM read_text('{outside}')",
    "SELECT (SELECT count(*) FROM read_text('{outside}')) AS n FROM events",
    "SELECT * FROM '{outside}'",
    "COPY (SELECT 1) TO '{written}'",
    "SELECT 1; COPY (SELECT 1) TO '{written}'",
    "ATTACH '{written}' AS other",
    "INSERT INTO silences SELECT * FROM silences",
    "DELETE FROM events",
    "SET enable_external_access = true",
    "SELECT * FROM query('SELECT * FROM read_text(''{outside}'')')",
    "WITH a AS (SELECT * FROM '{outside}') SELECT * FROM a",
    "SELECT * FROM glob('{outside}')",
    "SELECT write_log('x')",
    "SELECT * FROM force_checkpoint()",
    "SELECT no_such_function(1)",
    "SELECT * FROM events_copy",
]


@pytest.mark.parametrize("statement", ESCAPES)
def test_a_reader_reaches_the_store_and_nothing_else(owned, tmp_path, statement):
    path, _ = owned
    outside = tmp_path / "outside.txt"
    outside.write_text("not the store's", encoding="utf-8")
    written = tmp_path / "written.csv"
    with owner_store(path) as store, pytest.raises(duckdb.Error):
        store.query(statement.format(outside=outside, written=written))
    assert not written.exists()
    with owner_store(path) as store:
        assert store.count("events") > 0 and store.count("silences") == 0


def test_query_command_refuses_a_file_through_the_owner_in_one_line(owned, tmp_path):
    path, _ = owned
    written = tmp_path / "dump.csv"
    code, out = cli("query", f"COPY (SELECT 1) TO '{written}'", "--db", str(path))
    assert code == 2 and "Traceback" not in out and "SELECT statements only" in out
    code, out = cli("query", "SELECT * FROM read_text('/etc/hostname')", "--db", str(path))
    assert code == 2 and "reads outside the store" in out
    assert not written.exists()


def test_sql_script_and_ctes_and_parameters_work_through_the_owner(owned):
    path, reference = owned
    script = "WITH s AS (SELECT session_id FROM sessions) SELECT count(*) AS n FROM s;\n"
    args = ["sql", "--json", "--db"]
    got = CliRunner().invoke(app, [*args, str(path)], input=script)
    want = CliRunner().invoke(app, [*args, str(reference)], input=script)
    assert got.exit_code == 0 and got.output == want.output
    with owner_store(path) as store:
        from datetime import UTC, datetime

        since = datetime(2020, 1, 1, tzinfo=UTC)
        assert store.rows("SELECT count(*) AS n FROM events WHERE time > ?", [since])[0]["n"] > 0


def test_the_dashboards_sql_page_reads_through_the_owner_and_refuses_files(
    owned, tmp_path, monkeypatch
):
    pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    path, _ = owned
    monkeypatch.setenv("AGENTAUDIT_DB", str(path))
    page = Path(__file__).resolve().parents[2] / "dashboards" / "screens" / "sql.py"
    app = AppTest.from_file(str(page), default_timeout=60)
    app.run()
    assert not app.exception and len(app.table[0].value) > 0
    written = tmp_path / "dump.csv"
    for sql in ("SELECT * FROM read_text('/etc/hostname')", f"COPY (SELECT 1) TO '{written}'"):
        app.text_area[0].set_value(sql).run()
        assert not app.exception and app.error, sql
        assert "Permission Error" in app.error[0].value
    assert not written.exists()
