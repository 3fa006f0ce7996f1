"""What a store file is, without changing it: its schema version and migration history, storage
format and tables (`agentaudit store info`). While a writer holds the store this waits like
any reader, and the waiting message names the holder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentaudit.store import files, lock, migrations, tables


def store_info(
    db: Path, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Read-only: an older store is described as it is, not migrated."""
    if not db.exists():
        raise FileNotFoundError(f"no agentaudit store at {db}; run `agentaudit ingest`")
    con = lock.connect(db, read_only=True, timeout=timeout, on_wait=on_wait)
    try:
        version = migrations.stored_version(con)
        present = set(tables.layout(con))
        counts = {
            t.name: con.execute(f"SELECT count(*) FROM {t.name}").fetchall()[0][0]
            if t.name in present
            else None
            for t in tables.registered_tables()
        }
        return {
            "path": str(db),
            "bytes": db.stat().st_size,
            "storage_version": files.storage_version(con),
            "schema_version": version,
            "latest_schema_version": migrations.LATEST,
            "state": _state(version),
            "history": migrations.history(con),
            "tables": [
                {"table": t.name, "owner": t.owner, "rows": counts[t.name]}
                for t in tables.registered_tables()
            ],
        }
    finally:
        con.close()


def _state(version: int | None) -> str:
    if version is None:
        return "no agentaudit tables"
    if version > migrations.LATEST:
        return "newer than this agentaudit: refused"
    if version < migrations.LATEST:
        return "older: the next writable open migrates it"
    return "current"
