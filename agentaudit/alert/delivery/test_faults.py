"""Differential test of delivery under receiver faults: each of 8 scenarios ends with exactly
one delivered page per receiver, counted by the receivers (one per idempotency key / PagerDuty
dedup_key) and by agentaudit (one `delivered` outbox row and one ok attempt per target).

The receivers are real HTTP servers on 127.0.0.1 (agentaudit/receiver.py) whose behaviour each
scenario scripts. PagerDuty's servers cannot run here: the second receiver stands in for
events.pagerduty.com, speaking Events API v2 (202 + {"status": "success", "dedup_key": ...},
400 for an event without a routing key), and deduplicates triggers on dedup_key as PagerDuty
does. The clock is a ManualClock, so backoff costs no wall time; the restart scenario runs
`agentaudit alert run` as a real subprocess and SIGKILLs it mid-retry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import AlertingConfig, from_urls, parse_config
from agentaudit.alert.delivery import kept
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import evaluate
from agentaudit.receiver import Fault, LocalReceiver
from agentaudit.store import Store
from agentaudit.testing import free_port
from tests.alerting_helpers import add_finding

ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"
TIMEOUT = 1.0  # seconds; the slow receiver answers after TIMEOUT + 1
DELIVERY = {"backoff_base": "1s", "backoff_max": "2s", "timeout": f"{TIMEOUT:g}s"}


def pagerduty_dedup(request: dict[str, Any]) -> str | None:
    body = request["body"]
    return f"{body['dedup_key']}:{body['event_action']}" if isinstance(body, dict) else None


def pagerduty_reply(request: dict[str, Any]) -> bytes:
    body = request["body"] if isinstance(request["body"], dict) else {}
    if not body.get("routing_key"):
        return json.dumps(
            {"status": "invalid event", "message": "Event object is invalid"}
        ).encode()
    reply = {"status": "success", "message": "Event processed", "dedup_key": body["dedup_key"]}
    return json.dumps(reply).encode()


class Lab:
    """Two receivers (an apprise json webhook and a PagerDuty stand-in) on fixed ports that a
    scenario takes down, brings up, restarts and scripts, and the alerting config using them."""

    def __init__(self) -> None:
        self.ports = {"webhook": free_port(), "pagerduty": free_port()}
        self.live: dict[str, LocalReceiver] = {}
        self.instances: dict[str, list[LocalReceiver]] = {"webhook": [], "pagerduty": []}

    def up(self, name: str, faults: list[Fault] | None = None) -> None:
        extra: dict[str, Any] = {}
        if name == "pagerduty":
            extra = {"dedup_key": pagerduty_dedup, "reply": pagerduty_reply, "ok_status": 202}
        rx = LocalReceiver(port=self.ports[name], faults=faults, **extra)
        rx.__enter__()
        self.live[name] = rx
        self.instances[name].append(rx)

    def down(self, name: str) -> None:
        self.live.pop(name).__exit__(None, None, None)

    def close(self) -> None:
        for name in list(self.live):
            self.down(name)

    def config_data(self) -> dict[str, Any]:
        return {
            "global": {"delivery": DELIVERY, "resolve_timeout": "1h"},
            "receivers": [
                {
                    "name": "team",
                    "apprise_urls": [self.webhook_url()],
                    "pagerduty": {
                        "routing_key": ROUTING_KEY,
                        "url": f"http://127.0.0.1:{self.ports['pagerduty']}/v2/enqueue",
                    },
                }
            ],
            "route": {"receiver": "team", "group_wait": "0s"},
        }

    def webhook_url(self) -> str:
        return f"json://127.0.0.1:{self.ports['webhook']}/alerts"

    def config(self) -> AlertingConfig:
        return parse_config(self.config_data())

    def pages(self, name: str) -> list[dict[str, Any]]:
        return [p for rx in self.instances[name] for p in rx.pages()]

    def requests(self, name: str) -> list[dict[str, Any]]:
        return [r for rx in self.instances[name] for r in rx.received]


def tick(store: Store, cfg: AlertingConfig, clock: ManualClock, n: int = 1) -> None:
    for _ in range(n):
        clock.advance(5)  # past the longest backoff (2 s)
        deliver_due(store, cfg, clock)


def receiver_down(lab, store, cfg, clock):
    tick(store, cfg, clock, 3)
    lab.up("webhook")
    lab.up("pagerduty")


def answers_404(lab, store, cfg, clock):
    lab.up("webhook", [Fault(404), Fault(404)])
    lab.up("pagerduty", [Fault(404)])


def answers_500(lab, store, cfg, clock):
    lab.up("webhook", [Fault(500), Fault(503)])
    lab.up("pagerduty", [Fault(500), Fault(502)])


def slow_beyond_the_timeout(lab, store, cfg, clock):
    # each receiver takes the page and answers after agentaudit gave up waiting, twice
    slow = [Fault(200, delay=TIMEOUT + 1), Fault(200, delay=TIMEOUT + 1)]
    lab.up("webhook", slow)
    lab.up("pagerduty", [Fault(202, delay=TIMEOUT + 1), Fault(202, delay=TIMEOUT + 1)])


def receiver_restarted(lab, store, cfg, clock):
    lab.up("webhook", [Fault(503)])
    lab.up("pagerduty", [Fault(503)])
    tick(store, cfg, clock)
    lab.down("webhook")
    lab.down("pagerduty")
    tick(store, cfg, clock, 2)  # connection refused while they restart
    lab.up("webhook")
    lab.up("pagerduty")


def configuration_changed(lab, store, cfg, clock):
    tick(store, cfg, clock, 2)
    lab.up("webhook")
    lab.up("pagerduty")
    return from_urls([])  # the next runs have no targets at all: the kept ones deliver


def both_down(lab, store, cfg, clock):
    tick(store, cfg, clock, 4)
    lab.up("pagerduty", [Fault(500)])
    tick(store, cfg, clock)
    lab.up("webhook")


SCENARIOS: dict[str, Callable[..., AlertingConfig | None]] = {
    "down": receiver_down,
    "404": answers_404,
    "500": answers_500,
    "slow": slow_beyond_the_timeout,
    "receiver-restarted": receiver_restarted,
    "config-changed": configuration_changed,
    "both-down": both_down,
}


def check_exactly_once(lab: Lab, store: Store) -> None:
    webhook, pagerduty = lab.pages("webhook"), lab.pages("pagerduty")
    assert len(webhook) == 1, [r["status"] for r in lab.requests("webhook")]
    assert [(p["body"]["event_action"], p["status"]) for p in pagerduty] == [("trigger", 202)]
    # every retry carried the same key: a receiver honouring it never shows the page twice
    keys = {r["headers"].get("Idempotency-Key") for r in lab.requests("webhook")}
    assert len(keys) == 1 and None not in keys
    assert {r["body"]["dedup_key"] for r in lab.requests("pagerduty")} == {
        pagerduty[0]["body"]["dedup_key"]
    }
    rows = store.rows("SELECT target_id, status FROM outbox ORDER BY target_id")
    assert [r["status"] for r in rows] == ["delivered", "delivered"]
    ok = store.rows("SELECT outbox_id, count(*) AS n FROM deliveries WHERE ok GROUP BY outbox_id")
    assert sorted(r["n"] for r in ok) == [1, 1]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_fault_ends_with_one_page_per_receiver(store, scenario):
    lab, clock = Lab(), ManualClock()
    cfg = lab.config()
    try:
        add_finding(store, "provider-delete", "critical")
        evaluate(store, cfg, clock)
        deliver_due(store, cfg, clock)  # the first attempt meets the fault
        cfg = SCENARIOS[scenario](lab, store, cfg, clock) or cfg
        tick(store, cfg, clock, 6)
        check_exactly_once(lab, store)
    finally:
        lab.close()


def _cli(*args: str, **kwargs: Any) -> subprocess.Popen:
    code = "from agentaudit.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


@pytest.mark.slow  # real subprocesses with real backoff
def test_agentaudit_killed_mid_retry_delivers_once_after_restart(tmp_path: Path):
    """The 8th scenario: `alert run --every` is SIGKILLed while it retries a 500ing pair."""
    lab = Lab()
    db, cfg_path = tmp_path / "a.duckdb", tmp_path / "alerting.yml"
    data = lab.config_data()
    data["global"]["delivery"] = {**DELIVERY, "backoff_base": "50ms", "backoff_max": "100ms"}
    cfg_path.write_text(yaml.safe_dump(data))
    with Store.open(db) as store:
        add_finding(store, "provider-delete", "critical")
    lab.up("webhook", [Fault(500)] * 1000)
    lab.up("pagerduty", [Fault(500)] * 1000)
    run = _cli("alert", "run", "--every", "0.1", "--config", str(cfg_path), "--db", str(db))
    try:
        deadline = time.monotonic() + 120  # a bound, not a measurement
        while min(len(lab.requests(n)) for n in lab.ports) < 2 and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        lab.live["webhook"].script([])
        lab.live["pagerduty"].script([])
        for _ in range(5):  # backoff is at most 100 ms: one or two runs deliver
            again = _cli("alert", "run", "--config", str(cfg_path), "--db", str(db), "--json")
            out, err = again.communicate(timeout=120)
            assert again.returncode == 0, err
            if json.loads(out).get("outbox_pending", 0) == 0:
                break
            time.sleep(0.2)
        with Store.open(db, read_only=True) as store:
            check_exactly_once(lab, store)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        lab.close()


@pytest.mark.slow  # two real CLI runs
def test_a_notify_page_is_sent_by_a_later_run_without_notify(tmp_path: Path):
    """`detect --notify URL` with the receiver down, then `alert run` with no config at all."""
    db = tmp_path / "a.duckdb"
    lab = Lab()
    with Store.open(db) as store:
        add_finding(store, "provider-delete", "critical")
    try:
        first = _cli("detect", "--db", str(db), "--notify", lab.webhook_url(), "--json")
        _, err = first.communicate(timeout=300)
        lab.up("webhook")
        time.sleep(5.5)  # the default first backoff is at most 5 s: the retry is then due
        later = _cli("alert", "run", "--db", str(db), "--json")
        out, err = later.communicate(timeout=300)
        assert later.returncode == 0, err
        assert len(lab.pages("webhook")) == 1, (out, err)
        with Store.open(db, read_only=True) as store:
            assert store.rows("SELECT status FROM outbox") == [{"status": "delivered"}]
    finally:
        lab.close()


def test_kept_targets_are_private_and_forgotten_once_delivered(store):
    lab, clock = Lab(), ManualClock()
    secret_url = f"json://bob:hunter2secret@127.0.0.1:{lab.ports['webhook']}/alerts"
    cfg = config_with([secret_url])
    try:
        add_finding(store, "provider-delete", "critical")
        evaluate(store, cfg, clock)
        deliver_due(store, cfg, clock)  # nothing listens: kept for the next run
        path = kept.kept_path()
        assert path.stat().st_mode & 0o777 == 0o600
        assert "hunter2secret" in path.read_text()
        lab.up("webhook")
        tick(store, from_urls([]), clock)  # a run that no longer knows the URL sends it
        assert len(lab.pages("webhook")) == 1
        assert "hunter2secret" not in path.read_text()
    finally:
        lab.close()


def test_a_damaged_kept_file_does_not_stop_configured_deliveries(store):
    lab, clock = Lab(), ManualClock()
    lab.up("webhook")
    cfg = config_with([lab.webhook_url()])
    try:
        add_finding(store, "provider-delete", "critical")
        evaluate(store, cfg, clock)
        kept.kept_path().write_text('{"x": {"kind": "apprise", "nope": 1}, "y": [')
        deliver_due(store, cfg, clock)
        assert len(lab.pages("webhook")) == 1
    finally:
        lab.close()


def config_with(urls: list[str]) -> AlertingConfig:
    return parse_config(
        {
            "global": {"delivery": DELIVERY},
            "receivers": [{"name": "team", "apprise_urls": urls}],
            "route": {"receiver": "team", "group_wait": "0s"},
        }
    )
