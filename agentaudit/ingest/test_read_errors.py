"""Bad input never stops a run: every file that cannot be read is reported with its reason,
the others are read, and the exit code says whether any failed. Real files, a real fifo,
real symlinks, a real subprocess for Ctrl-C."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentaudit.ingest import ingest_paths
from agentaudit.store import Store
from agentaudit.store.lock import holder_path

ZSH = b": 1714000000:0;ls -la\n: 1714000001:0;git status\n"


def _cloudtrail_records(count: int, start: int = 0) -> list[dict]:
    return [
        {
            "eventVersion": "1.08",
            "eventID": f"00000000-0000-0000-0000-{start + i:012d}",
            "eventTime": "2026-04-24T19:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances" if i % 2 else "DeleteVolume",
            "awsRegion": "us-east-1",
            "requestParameters": {"volumeId": f"vol-{i:08x}"},
        }
        for i in range(count)
    ]


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "logs"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "zsh_history").write_bytes(ZSH)
    os.mkfifo(tree / "fifo")  # would block a plain open() forever
    (tree / "loop1").symlink_to("loop2")
    (tree / "loop2").symlink_to("loop1")
    document = json.dumps({"Records": _cloudtrail_records(400)}).encode()
    compressed = gzip.compress(document)
    (tree / "cut.json.gz").write_bytes(compressed[: len(compressed) * 2 // 3])
    (tree / "whole.json").write_text(json.dumps({"Records": _cloudtrail_records(3, 1000)}))
    return tree


def test_each_unreadable_file_is_reported_and_the_others_are_read(store, redactor, tmp_path):
    report = ingest_paths(store, [_tree(tmp_path)], redactor=redactor)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["fifo"].status == "error" and "fifo" in by_name["fifo"].detail
    assert by_name["loop1"].status == "error" and "symbolic links" in by_name["loop1"].detail
    assert (by_name["zsh_history"].status, by_name["zsh_history"].ingested) == ("read", 2)
    assert (by_name["whole.json"].status, by_name["whole.json"].ingested) == ("read", 3)
    cut = by_name["cut.json.gz"]
    assert cut.status == "damaged" and "truncated gzip" in cut.detail
    # every record the cut file still inflates to whole is kept; the cut one is quarantined
    assert 150 < cut.ingested < 400 and cut.quarantined >= 1
    assert {f.path for f in report.failed} == {
        str(tmp_path / "logs" / n) for n in ("fifo", "loop1", "loop2", "cut.json.gz")
    }
    reasons = store.rows("SELECT reason FROM quarantine WHERE source_path LIKE '%cut.json.gz'")
    assert any("truncated gzip" in r["reason"] for r in reasons)


def test_a_corrupt_gzip_keeps_the_records_before_the_corruption(store, redactor, tmp_path):
    records = _cloudtrail_records(2000)
    compressed = bytearray(gzip.compress(json.dumps({"Records": records}).encode()))
    compressed[len(compressed) * 3 // 4] ^= 0xFF
    path = tmp_path / "corrupt.json.gz"
    path.write_bytes(bytes(compressed))
    (report,) = ingest_paths(store, [path], source="aws.cloudtrail", redactor=redactor).files
    assert report.status == "damaged" and "gzip" in report.detail
    assert 1000 < report.ingested < 2000  # the records inflated before the corruption


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("agentaudit")), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_the_exit_code_says_a_file_failed_with_one_line_each(tmp_path):
    tree = _tree(tmp_path)
    run = _cli("ingest", "--db", str(tmp_path / "s.duckdb"), "--json", str(tree))
    out, err = run.communicate(timeout=300)
    assert run.returncode == 1, err
    assert json.loads(out)["failed"] == 4
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(("error:", "damaged:"))]
    assert len(lines) == 4 and any("fifo" in line for line in lines)
    good = _cli("ingest", "--db", str(tmp_path / "s.duckdb"), str(tree / "sub"))
    _out, err = good.communicate(timeout=300)
    assert good.returncode == 0, err


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="root reads every file: needs root and setpriv to drop that capability",
)
def test_a_file_without_read_permission_fails_the_run(tmp_path):
    """The CLI runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so mode 000 is refused."""
    logs = tmp_path / "logs"
    logs.mkdir()
    secret = logs / "zsh_history"
    secret.write_bytes(ZSH)
    secret.chmod(0o000)
    (logs / "other_zsh_history").write_bytes(ZSH)
    agentaudit = str(Path(sys.executable).with_name("agentaudit"))
    run = subprocess.run(
        [
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            agentaudit,
            "ingest",
            "--db",
            str(tmp_path / "s.duckdb"),
            str(logs),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert f"error: {secret}: Permission denied" in run.stderr
    assert "Traceback" not in run.stderr


def test_ctrl_c_stops_at_a_batch_boundary_and_the_rerun_resumes(tmp_path):
    """A real SIGINT to a real ingest: it says where it stopped, exits 130, and running it
    again stores exactly the events of one uninterrupted run."""
    logs = tmp_path / "trail"
    logs.mkdir()
    for part in range(6):  # one record a line, 30 batches in all
        lines = [json.dumps(r) for r in _cloudtrail_records(25_000, part * 25_000)]
        (logs / f"part{part}.jsonl").write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    run = _cli("ingest", "--db", str(db), "--jobs", "1", "--json", str(logs))
    deadline = time.monotonic() + 240
    while not holder_path(db).exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # inside the run, past the store's opening
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=300)
    if run.returncode == 0:
        pytest.skip("the ingest finished before the signal arrived (a very fast machine)")
    assert run.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: stopped" in err and "run it again to resume" in err
    assert json.loads(out)["interrupted"].startswith("stopped")
    again = _cli("ingest", "--db", str(db), "--jobs", "1", str(logs))
    _out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    with Store.open(db, read_only=True) as store:
        assert store.count("events") == 150_000
        assert store.rows("SELECT count(DISTINCT event_id) AS n FROM events")[0]["n"] == 150_000


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_the_workers_of_a_sigkilled_parallel_ingest_die_with_it(tmp_path):
    logs = tmp_path / "trail"
    logs.mkdir()
    for part in range(4):
        lines = [json.dumps(r) for r in _cloudtrail_records(25_000, part * 25_000)]
        (logs / f"part{part}.jsonl").write_text("\n".join(lines) + "\n")
    run = _cli("ingest", "--db", str(tmp_path / "s.duckdb"), "--jobs", "2", str(logs))
    deadline = time.monotonic() + 240
    workers: set[int] = set()
    while len(workers) < 2 and run.poll() is None and time.monotonic() < deadline:
        workers = _children(run.pid)
        time.sleep(0.05)
    if run.poll() is not None:
        pytest.skip("the ingest finished before its workers were seen (a very fast machine)")
    run.kill()
    run.wait(30)
    deadline = time.monotonic() + 30
    while workers and time.monotonic() < deadline:
        workers = {w for w in workers if Path(f"/proc/{w}").exists() and not _zombie(w)}
        time.sleep(0.1)
    assert not workers, f"workers left alive after their parent was killed: {workers}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
