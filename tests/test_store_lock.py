"""A second process on a held store: it waits, says what holds it, and fails in one line when
the holder keeps it (real `agentaudit` subprocesses on a real DuckDB file)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentaudit.realtime.watch.harness import wait_for
from agentaudit.scenarios import scenario_files
from agentaudit.store import lock

CLI = [sys.executable, "-c", "from agentaudit.cli import main; main()"]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


def assert_one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr and "IOException" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


HOLDER = "agentaudit alert run"  # a command that holds the store writable and serves nothing


@pytest.fixture
def running_holder(tmp_path):
    """A process holding the store for writing without answering for it (`watch` and `serve`
    answer other commands over their owner API: tests/test_owner_api.py)."""
    db = tmp_path / "store.duckdb"
    code = (
        "import sys; from agentaudit.store import Store, lock; "
        f"lock.process_label = {HOLDER!r}; s = Store.open(sys.argv[1]); "
        "print('open', flush=True); sys.stdin.read(); s.close()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        assert wait_for(lock.holder_path(db).exists, timeout=30)
        yield db, holder.pid
    finally:
        holder.stdin.close()
        holder.wait(60)


def test_a_writer_waits_then_names_the_process_that_holds_the_store(running_holder):
    db, holder_pid = running_holder
    files = [str(p) for p in scenario_files("pocketos")]
    result = run_cli("--lock-timeout", "1", "ingest", *files, "--db", str(db))
    assert result.returncode == 2
    waiting = [line for line in result.stderr.splitlines() if line.startswith("waiting")]
    assert len(waiting) == 1, result.stderr
    assert f"held by pid {holder_pid} ({HOLDER}, since " in waiting[0]
    error = assert_one_line_error(result.stderr)
    assert f"{db} is held by pid {holder_pid} ({HOLDER}, since " in error
    assert "gave up after 1 s" in error and "--lock-timeout" in error


def test_a_reader_waits_too_and_says_the_same(running_holder):
    db, holder_pid = running_holder
    env_timeout = {**os.environ, lock.TIMEOUT_ENV: "0.5"}
    result = subprocess.run(
        [*CLI, "query", "SELECT count(*) FROM events", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_timeout,
    )
    assert result.returncode == 2
    error = assert_one_line_error(result.stderr)
    assert f"held by pid {holder_pid} ({HOLDER}" in error
    assert "gave up after 0.5 s" in error


def test_a_writer_goes_on_once_the_holder_closes_the_store(tmp_path):
    db = tmp_path / "store.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from agentaudit.store import Store; s = Store.open(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read(); s.close()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        files = [str(p) for p in scenario_files("pocketos")]
        writer = subprocess.Popen(
            [*CLI, "--lock-timeout", "120", "ingest", *files, "--db", str(db), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_line = _readline_within(writer.stderr, timeout=120)
        assert first_line.startswith(f"waiting for the store lock held by pid {holder.pid} ("), (
            first_line
        )
        holder.stdin.close()  # the holder closes the store and exits
        assert holder.wait(60) == 0
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert '"ingested": 33' in out
    finally:
        for proc in (holder,):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert not lock.holder_path(db).exists()  # each writer removed its own at close


def _readline_within(stream, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert line, "no line within the timeout"
    return line[0]


def test_the_lock_error_duckdb_gives_is_understood(tmp_path):
    message = (
        'IO Error: Could not set lock on file "/x/store.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 4242) by user me. See also https://duckdb.org/docs/current/"
        "connect/concurrency"
    )
    holder = lock.holder_from_error(Path("/x/store.duckdb"), message)
    assert holder == lock.Holder(4242, "python3.11")
    assert lock.holder_from_error(Path("/x/store.duckdb"), "IO Error: disk full") is None
    assert re.search(r"pid 4242 \(python3\.11\)", holder.describe())
