"""The store's files on disk: private to their owner, readable by the documented DuckDB tools.

DuckDB creates the write-ahead log (`<store>.wal`) itself, at its first write after each
checkpoint, with the process umask: 0644 beside a 0600 store. There is no DuckDB setting for
its mode, so the process umask is 077 while a store is open (files the process creates
meanwhile are private too).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

# New stores are written in DuckDB 1.5's storage format, which DuckDB 1.5 and later read (the
# newest `duckdb` CLI on PyPI, duckdb-cli, is 1.5). DuckDB 2 writes its own format by default,
# which no DuckDB 1.x opens. An existing store keeps the format it was created with.
STORAGE_VERSION = "v1.5.0"

_umask_lock = threading.Lock()
_umask_holders = 0
_saved_umask = 0


def hold_private_umask() -> None:
    """Umask 077 until the matching `release_private_umask` (nested opens are counted)."""
    global _umask_holders, _saved_umask
    with _umask_lock:
        if _umask_holders == 0:
            _saved_umask = os.umask(0o077)
        _umask_holders += 1


def release_private_umask() -> None:
    global _umask_holders
    with _umask_lock:
        _umask_holders -= 1
        if _umask_holders == 0:
            os.umask(_saved_umask)


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def create_empty(db: Path) -> None:
    """An empty DuckDB file in `STORAGE_VERSION`'s format (set once, when the file is made)."""
    duckdb.connect(str(db), config={"storage_compatibility_version": STORAGE_VERSION}).close()


def make_private(db: Path) -> None:
    """Mode 0600 for the store and a log left by an earlier run."""
    for path in (db, wal_path(db)):
        if path.exists():
            os.chmod(path, 0o600)


def storage_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The storage format the connected file is written in, e.g. 'v1.5.0+'."""
    rows = con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0].get("storage_version") if rows and rows[0][0] else None
