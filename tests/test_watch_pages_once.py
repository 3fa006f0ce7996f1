"""`watch` pages one command once, whichever of its records arrives first.

The zsh history line of the PocketOS delete arrives before the Cursor hook that ran it, later
than `settle_seconds`: watch judges the line in its inferred shell session and pages. When the
hook arrives, linking moves the line into the agent's session; that session's findings join
the paged incident (alert/membership.py, `continued_sessions`) instead of opening a second
incident that paged the same command again (seen before the fix: two [CRITICAL] pages).
Real watch loop, real files, a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import threading

import pytest

from agentaudit.enrich.secrets import Redactor
from agentaudit.realtime.watch.config import config_from_dict
from agentaudit.realtime.watch.harness import GIVE_UP_SECONDS, wait_for
from agentaudit.realtime.watch.service import Watcher
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_path
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY

SETTLE = 0.2


def passes_after(watcher: Watcher, n: int) -> bool:
    start = watcher.state["passes"]
    return (
        wait_for(lambda: watcher.state["passes"] >= start + n, timeout=GIVE_UP_SECONDS) is not None
    )


@pytest.mark.parametrize(
    "order",
    [
        ("zsh_history", "cursor-hooks.jsonl", "railway-auditlogs.json"),  # the line first
        ("cursor-hooks.jsonl", "zsh_history", "railway-auditlogs.json"),  # the hook first
    ],
)
def test_one_command_is_paged_once_whatever_arrives_first(tmp_path, order):
    logs = tmp_path / "logs"
    logs.mkdir()
    with LocalReceiver() as receiver:
        config = config_from_dict(
            {
                "paths": [str(logs)],
                "notify": [receiver.url()],
                "guard": None,
                "poll_seconds": 0.1,
                "settle_seconds": SETTLE,
            }
        )
        store = Store.open(tmp_path / "w.duckdb")
        watcher = Watcher(config, store=store, redactor=Redactor(TEST_KEY))
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
            for name in order:
                shutil.copy(scenario_path("pocketos") / name, logs / name)
                # past the settle time: the line is judged (and paged) alone before the next
                assert passes_after(watcher, 1 + int(SETTLE / 0.1) + 3)
                if name == order[0] and name == "zsh_history":
                    assert wait_for(lambda: receiver.received, timeout=GIVE_UP_SECONDS)
            assert passes_after(watcher, 5)
            titles = [r["body"]["title"] for r in receiver.received]
            incidents = store.con.cursor().sql("SELECT alert_id FROM alerts").fetchall()
        finally:
            watcher.stop_event.set()
            thread.join(timeout=GIVE_UP_SECONDS)
    assert len(titles) == 1 and titles[0].startswith("[CRITICAL]"), titles
    assert len(incidents) == 1
