"""Crash consistency, proven: `ingest`, `detect`, `alert run` and `watch` are SIGKILLed at 20
seeded random points each, then re-run once to completion, and the store must say what one
clean, uninterrupted run says: the same event ids, the same findings and alerts, none twice,
every page delivered (the receiver answers 500 at first, so kills land mid-retry) and none
twice, and no process left behind (ingest's workers included).

The kills land anywhere from interpreter start-up to the last commit: each delay is drawn
from [0, the clean run's duration] with a fixed seed, so a failure replays with the same
schedule. The receiver is a real HTTP server on 127.0.0.1 (agentaudit/receiver.py).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentaudit.receiver import Fault, LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store
from agentaudit.testing import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc"),
]

SEED = 22
KILLS = 20
SCENARIOS = ("pocketos", "claude-code-terraform", "codex-terraform-destroy")
BOUND = 300  # seconds: a bound on any one run, never a measurement


def alerting_yml(port: int) -> dict[str, Any]:
    return {
        "global": {"delivery": {"backoff_base": "50ms", "backoff_max": "200ms", "timeout": "5s"}},
        "receivers": [{"name": "soc", "apprise_urls": [f"json://127.0.0.1:{port}/alerts"]}],
        "route": {
            "receiver": "soc",
            "group_wait": "0s",
            "group_interval": "1h",
            "repeat_interval": "24h",
        },
    }


class Lab:
    """One data directory (home, store, alerting.yml) and the receiver its pages go to."""

    def __init__(self, root: Path, faults: list[Fault]) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.db = root / "store.duckdb"
        self.receiver = LocalReceiver(faults=faults)
        self.receiver.__enter__()
        (self.home / "alerting.yml").write_text(yaml.safe_dump(alerting_yml(self.receiver.port)))
        self.env = {**os.environ, "AGENTAUDIT_HOME": str(self.home)}
        self.env.pop("AGENTAUDIT_ALERTING", None)

    def start(self, *args: str) -> subprocess.Popen:
        code = "from agentaudit.cli import main; main()"
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=True,  # its session id names everything it started
        )

    def run(self, *args: str) -> float:
        started = time.monotonic()
        proc = self.start(*args)
        _, err = proc.communicate(timeout=BOUND)
        assert proc.returncode == 0, (args, err.decode()[-2000:])
        return time.monotonic() - started

    def state(self) -> dict[str, Any]:
        with Store.open(self.db, read_only=True) as store:
            one = {
                "events": store.rows("SELECT event_id, count(*) AS n FROM events GROUP BY ALL"),
                "findings": store.rows(
                    "SELECT finding_id, status, count(*) AS n FROM findings GROUP BY ALL"
                ),
                "alerts": store.rows("SELECT alert_id, count(*) AS n FROM alerts GROUP BY ALL"),
                "paged": store.rows(
                    """SELECT alert_id, action, status, count(*) AS n FROM outbox
                       WHERE status <> 'superseded' GROUP BY ALL"""
                ),
            }
        for table, rows in one.items():
            assert all(r.pop("n") == 1 for r in rows), f"a row twice in {table}"
        state = {t: sorted(json.dumps(r, sort_keys=True) for r in rows) for t, rows in one.items()}
        state["pages"] = len(self.receiver.pages())
        return state

    def close(self) -> None:
        self.receiver.__exit__(None, None, None)


def leftovers(session: int) -> list[int]:
    """Live processes of the killed command's session (zombies are already dead)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def kill_at_random_points(lab: Lab, rng: random.Random, duration: float, *args: str) -> None:
    for _ in range(KILLS):
        proc = lab.start(*args)
        try:
            proc.wait(timeout=rng.uniform(0, duration))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)  # the command only: its workers must follow
        proc.wait(timeout=BOUND)
        deadline = time.monotonic() + 60
        while leftovers(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftovers(proc.pid) == [], f"{args[0]} left processes behind"


def test_sigkilled_ingest_detect_and_alert_run_converge_to_one_clean_run(tmp_path):
    files = [str(f) for name in SCENARIOS for f in scenario_files(name)]
    rng = random.Random(SEED)
    commands = {
        "ingest": ["ingest", "--jobs", "2", *files],
        "detect": ["detect"],
        "alert run": ["alert", "run"],
    }
    clean = Lab(tmp_path / "clean", faults=[])
    crashed = Lab(tmp_path / "crashed", faults=[Fault(500)] * 6)
    try:
        durations = {
            name: clean.run(*args, "--db", str(clean.db)) for name, args in commands.items()
        }
        for name, args in commands.items():
            kill_at_random_points(crashed, rng, durations[name], *args, "--db", str(crashed.db))
            crashed.run(*args, "--db", str(crashed.db))
        for _ in range(10):  # what is still in backoff after the 500s: a few more ticks
            if crashed.receiver.pages() and not _pending(crashed):
                break
            time.sleep(0.3)
            crashed.run("alert", "run", "--db", str(crashed.db))
        expected, got = clean.state(), crashed.state()
        assert expected["events"] and expected["findings"] and expected["pages"]
        assert got == expected
    finally:
        clean.close()
        crashed.close()


def _pending(lab: Lab) -> int:
    with Store.open(lab.db, read_only=True) as store:
        return len(store.rows("SELECT outbox_id FROM outbox WHERE status = 'pending'"))


def _health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            return json.loads(reply.read())
    except OSError:  # not up yet (503 included: starting)
        return None


def watch_until_caught_up(lab: Lab, tail: Path) -> float:
    """Run watch until a pass reads nothing new after having read; SIGTERM; its duration."""
    port = free_port()
    started = time.monotonic()
    proc = lab.start("watch", "--path", str(tail), "--db", str(lab.db), "--health-port", str(port))
    try:
        last, quiet_since = None, None
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            health = _health(port)
            if health and health["passes"] >= 2:
                seen = health["events_ingested"]
                if seen != last:
                    last, quiet_since = seen, health["passes"]
                elif health["passes"] >= quiet_since + 2:
                    break
            time.sleep(0.2)
        duration = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == 0, err.decode()[-2000:]
    return duration


def test_sigkilled_watch_converges_to_one_clean_watch(tmp_path):
    rng = random.Random(SEED + 1)
    tail = tmp_path / "tail"
    for name in SCENARIOS:
        for f in scenario_files(name):
            target = tail / name / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
    clean = Lab(tmp_path / "clean", faults=[])
    crashed = Lab(tmp_path / "crashed", faults=[Fault(500)] * 6)
    try:
        duration = watch_until_caught_up(clean, tail)
        args = ("watch", "--path", str(tail), "--db", str(crashed.db))
        kill_at_random_points(crashed, rng, duration, *args)
        watch_until_caught_up(crashed, tail)
        expected, got = clean.state(), crashed.state()
        assert expected["events"] and expected["findings"]
        assert got["events"] == expected["events"]
        assert got["findings"] == expected["findings"]
        assert got["alerts"] == expected["alerts"]
        assert got["pages"] == expected["pages"] and _pending(crashed) == 0
    finally:
        clean.close()
        crashed.close()
