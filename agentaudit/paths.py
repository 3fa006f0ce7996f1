"""Where agentaudit keeps its state: one per-user directory, private to the user.

`AGENTAUDIT_HOME` moves everything (store, key, hook logs); `AGENTAUDIT_DB` moves the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

DB_FILENAME = "agentaudit.duckdb"


def home() -> Path:
    override = os.environ.get("AGENTAUDIT_HOME")
    base = Path(override) if override else Path(platformdirs.user_data_dir("agentaudit"))
    ensure_private_dir(base)
    return base


def default_db_path() -> Path:
    override = os.environ.get("AGENTAUDIT_DB")
    return Path(override) if override else home() / DB_FILENAME


def key_path() -> Path:
    return home() / "fingerprint.key"


def hook_log_dir() -> Path:
    path = home() / "hooks"
    ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> None:
    if not path.exists():
        with private_umask():
            path.mkdir(parents=True, exist_ok=True)


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and directories created inside are readable by their owner only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
