"""Schema versions and migrations on real DuckDB files (the previous releases' own stores are
built with their code in tests/test_store_upgrade.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from agentaudit.schema import new_event, to_arrow
from agentaudit.store import Store, StoreError, StoreTooNew, lock, migrations, tables
from agentaudit.store.migrations import Migration, add_columns


def _v1_store(path: Path, *, stamped: bool) -> None:
    """A store with the frozen version-1 layout and one event; `stamped`: with its version row
    (as this code writes it), else as a store made before versioning."""
    con = duckdb.connect(str(path))
    con.execute(migrations._v1_sql())
    con.execute("INSERT INTO events (event_id, source) VALUES ('e1', 'shell.zsh')")
    if stamped:
        con.execute(migrations._VERSION_DDL)
        con.execute("INSERT INTO schema_version VALUES (1, 'created', now(), 'test')")
    con.close()


def _layout_without_version(con: duckdb.DuckDBPyConnection) -> dict:
    layout = tables.layout(con)
    layout.pop(migrations.VERSION_TABLE)
    return layout


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrations_are_numbered_one_by_one():
    assert [m.version for m in migrations.MIGRATIONS] == list(
        range(1, len(migrations.MIGRATIONS) + 1)
    )
    assert migrations.MIGRATIONS[-1].version == migrations.LATEST


def test_a_new_store_is_created_at_the_latest_version(tmp_path):
    with Store.open(tmp_path / "new.duckdb") as store:
        assert store.migration.from_version is None
        assert migrations.stored_version(store.con) == migrations.LATEST
        assert [row["description"] for row in migrations.history(store.con)] == ["created"]
        assert _layout_without_version(store.con) == tables.declared_layout()


def test_a_store_at_version_1_migrates_to_exactly_the_declared_layout(tmp_path):
    """Declarations and migrations agree: a column or table added to one side only fails here."""
    path = tmp_path / "v1.duckdb"
    _v1_store(path, stamped=True)
    with Store.open(path) as store:
        assert migrations.stored_version(store.con) == migrations.LATEST
        assert _layout_without_version(store.con) == tables.declared_layout()
        assert store.count("events") == 1


def test_a_store_made_before_versioning_gets_its_missing_tables_and_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    _v1_store(path, stamped=False)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE export_cursors")
    for column in ("credential_id", "source_ip", "user_agent", "on_behalf_of", "operation_id"):
        con.execute(f"ALTER TABLE events DROP COLUMN {column}")
    con.execute('ALTER TABLE events DROP COLUMN "repeat"')
    con.close()

    with Store.open(path) as store:
        report = store.migration
        assert (report.from_version, report.to_version) == (0, migrations.LATEST)
        assert report.applied[0][0] == 1
        assert "migrated from schema version 0" in report.summary()
        assert _layout_without_version(store.con) == tables.declared_layout()
        assert store.rows("SELECT event_id, source, credential_id FROM events") == [
            {"event_id": "e1", "source": "shell.zsh", "credential_id": None}
        ]
        history = migrations.history(store.con)
        assert [row["version"] for row in history] == [m.version for m in migrations.MIGRATIONS]

    with Store.open(path) as again:  # once only
        assert not again.migration.migrated


def test_adding_a_column_is_one_migration(tmp_path, monkeypatch):
    """The documented way to grow `events`: the stored rows stay, the column is NULL for them."""
    path = tmp_path / "v1.duckdb"
    _v1_store(path, stamped=True)
    after = migrations.LATEST + 1  # the next number, whatever has shipped since
    extra = Migration(
        after, "events: command_words", add_columns("events", "command_words VARCHAR[]")
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, extra))
    monkeypatch.setattr(migrations, "LATEST", after)
    with Store.open(path) as store:
        assert store.migration.applied[-1] == (after, "events: command_words")
        assert store.rows("SELECT event_id, command_words FROM events") == [
            {"event_id": "e1", "command_words": None}
        ]
        assert [row["version"] for row in migrations.history(store.con)] == list(
            range(1, after + 1)
        )


def test_a_failing_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "v1.duckdb"
    _v1_store(path, stamped=True)

    def half_done(con):
        con.execute("ALTER TABLE events ADD COLUMN half VARCHAR")
        con.execute("SELECT * FROM no_such_table")

    following = migrations.LATEST + 1
    monkeypatch.setattr(
        migrations,
        "MIGRATIONS",
        (*migrations.MIGRATIONS, Migration(following, "broken", half_done)),
    )
    monkeypatch.setattr(migrations, "LATEST", following)
    with pytest.raises(duckdb.CatalogException):
        Store.open(path)
    con = duckdb.connect(str(path), read_only=True)
    assert migrations.stored_version(con) == 1
    assert "half" not in [c for c, _ in tables.layout(con)["events"]]
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]
    con.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_store_from_a_newer_version_is_refused_and_left_as_it_is(tmp_path, read_only):
    path = tmp_path / "newer.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now(), '9.0')", [99])
    con.close()
    before = _digest(path)

    with pytest.raises(StoreTooNew) as refused:
        Store.open(path, read_only=read_only)
    message = str(refused.value)
    assert "\n" not in message
    assert "schema version 99" in message and "upgrade agentaudit" in message
    assert _digest(path) == before
    assert not path.with_name(path.name + ".wal").exists()


def test_a_read_only_open_of_an_older_store_migrates_it_first(tmp_path):
    path = tmp_path / "old.duckdb"
    _v1_store(path, stamped=False)
    notices: list[str] = []
    with Store.open(path, read_only=True, on_notice=notices.append) as store:
        assert store.read_only
        assert store.migration is not None and store.migration.from_version == 0
        assert migrations.stored_version(store.con) == migrations.LATEST
        assert store.count("event_sessions") == 1
    assert len(notices) == 1 and "migrated" in notices[0]


def test_store_info_describes_an_older_store_without_migrating_it(tmp_path):
    from agentaudit.store.info import store_info

    path = tmp_path / "old.duckdb"
    _v1_store(path, stamped=False)
    before = _digest(path)
    info = store_info(path)
    assert (info["schema_version"], info["latest_schema_version"]) == (0, migrations.LATEST)
    assert info["state"].startswith("older")
    assert {"table": "events", "owner": "store", "rows": 1} in info["tables"]
    assert _digest(path) == before


def test_an_older_store_we_may_only_read_is_refused_in_one_line(tmp_path, monkeypatch):
    """A file this user may only read. Tests run as root here, who may write any file, so the
    writable open is made to fail as DuckDB fails on a read-only file (its own message)."""
    path = tmp_path / "old.duckdb"
    _v1_store(path, stamped=False)
    connect = lock.connect

    def only_reading(db, *, read_only, **kwargs):
        if not read_only:
            raise duckdb.IOException(f'IO Error: Cannot open file "{db}": Permission denied')
        return connect(db, read_only=read_only, **kwargs)

    monkeypatch.setattr(lock, "connect", only_reading)
    before = _digest(path)
    with pytest.raises(StoreError) as refused:
        Store.open(path, read_only=True)
    message = str(refused.value)
    assert (
        "schema version 0 and needs a writable open" in message and "Permission denied" in message
    )
    assert "\n" not in message
    assert _digest(path) == before


def test_appends_match_columns_by_name_whatever_the_stored_order(tmp_path):
    """A migration appends columns at the end; a store whose order differs from the
    declarations still gets each value in its own column."""
    path = tmp_path / "reordered.duckdb"
    con = duckdb.connect(str(path))
    con.execute(migrations._v1_sql().replace("event_id VARCHAR, ", "", 1))
    con.execute("ALTER TABLE events ADD COLUMN event_id VARCHAR")  # now the last column
    con.execute(migrations._VERSION_DDL)
    con.execute("INSERT INTO schema_version VALUES (1, 'created', now(), 'test')")
    con.close()  # opening it runs the later migrations: their columns come after event_id
    event = new_event("shell.zsh", "rm -rf build", command="rm -rf build", cwd="/w")
    with Store.open(path) as store:
        assert store.append_events([event]) == 1
        assert store.append_events([event]) == 0  # the dedup key is found by name too
        assert store.append_events_by_path(to_arrow([event])) == {}
        row = store.rows("SELECT event_id, source, command, cwd FROM events")
    assert row == [
        {
            "event_id": event["event_id"],
            "source": "shell.zsh",
            "command": "rm -rf build",
            "cwd": "/w",
        }
    ]
