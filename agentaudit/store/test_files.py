"""The store's files on disk: private, and in the storage format the documented tools read."""

from __future__ import annotations

import os
import stat

from agentaudit.schema import new_event
from agentaudit.store import Store, files, lock


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_write_ahead_log_is_as_private_as_the_store(tmp_path):
    os.umask(previous := os.umask(0o022))  # the usual umask: a plain file would be 0644
    db = tmp_path / "store.duckdb"
    with Store.open(db) as store:
        store.append_events(
            [new_event("shell.zsh", "ls", command="ls")]
        )  # small: written through the log
        wal = files.wal_path(db)
        assert wal.exists()
        assert (_mode(db), _mode(wal)) == (0o600, 0o600)
        assert _mode(lock.holder_path(db)) == 0o600
    assert os.umask(previous) == previous  # the process umask is back once the store closes
    os.umask(previous)


def test_a_new_store_is_written_in_the_documented_storage_format(tmp_path):
    with Store.open(tmp_path / "store.duckdb") as store:
        assert files.storage_version(store.con) == files.STORAGE_VERSION + "+"
