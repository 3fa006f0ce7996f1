"""Waiting for a store another process holds, and saying which process that is.

DuckDB lets one process open a file for writing, or several for reading only, and refuses any
other at once ("Could not set lock ... (PID n)"). Instead of failing, `connect` retries until the
lock timeout (`AGENTAUDIT_LOCK_TIMEOUT`, seconds) and tells its caller once what it waits for.
The writer that holds a store leaves `<store>.holder` beside it (pid, command, since), so the
message can name the command, not just the pid DuckDB gives.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agentaudit.store.errors import StoreError, StoreLocked

# what this process is, for the holder file: the CLI sets "agentaudit <command>"
process_label: str | None = None

TIMEOUT_ENV = "AGENTAUDIT_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
_LOCK_ERROR = re.compile(
    r"Could not set lock on file .*?held in (?P<program>.*?) \(PID (?P<pid>\d+)\)"
)


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str  # "agentaudit watch", or the program DuckDB names when no holder file matches
    since: str | None = None  # ISO time the holder opened the store, when it said so

    def describe(self) -> str:
        since = f", since {self.since}" if self.since else ""
        return f"pid {self.pid} ({self.command}{since})"


def lock_timeout(value: float | None = None) -> float:
    """The given timeout, else `AGENTAUDIT_LOCK_TIMEOUT`, else `DEFAULT_TIMEOUT` (seconds)."""
    if value is not None:
        return max(0.0, value)
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        return max(0.0, float(text))
    except ValueError:
        raise StoreError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None


def holder_path(db: Path) -> Path:
    return db.with_name(db.name + ".holder")


def write_holder(db: Path) -> None:
    """Say who holds the store for writing (replaced by the next writer, removed at close)."""
    info = {
        "pid": os.getpid(),
        "command": _this_command(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = holder_path(db)
    temporary = path.with_name(path.name + f".{os.getpid()}")
    temporary.write_text(json.dumps(info), encoding="utf-8")
    os.replace(temporary, path)


def remove_holder(db: Path) -> None:
    """Remove the holder file if this process wrote it."""
    path = holder_path(db)
    recorded = _read_holder(path)
    if recorded is not None and recorded.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def connect(
    db: Path,
    *,
    read_only: bool,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, waiting up to the lock timeout while another process holds the file."""
    limit = lock_timeout(timeout)
    deadline = time.monotonic() + limit
    pause, told = 0.05, False
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as exc:
            holder = holder_from_error(db, str(exc))
            if holder is None:
                raise
        if time.monotonic() >= deadline:
            raise StoreLocked(
                f"the store {db} is held by {holder.describe()}; gave up after {limit:g} s "
                f"(wait longer with --lock-timeout or {TIMEOUT_ENV})"
            )
        if on_wait is not None and not told:
            on_wait(
                f"waiting for the store lock held by {holder.describe()} ... "
                f"(up to {limit:g} s; --lock-timeout or {TIMEOUT_ENV})"
            )
            told = True
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)


def holder_from_error(db: Path, message: str) -> Holder | None:
    """The process a DuckDB lock error names, described by its holder file when it wrote one."""
    match = _LOCK_ERROR.search(message)
    if match is None:
        return None
    pid = int(match["pid"])
    recorded = _read_holder(holder_path(db))
    if recorded is not None and recorded.get("pid") == pid:
        return Holder(pid, str(recorded.get("command")), recorded.get("since"))
    return Holder(pid, Path(match["program"]).name)


def _read_holder(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _this_command() -> str:
    """`process_label`, else the program's name (never its arguments: they may hold paths or
    tokens)."""
    if process_label:
        return process_label
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] not in ("", "-c") else "python"
