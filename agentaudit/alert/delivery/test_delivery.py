"""Delivery never loses a page: real apprise to real loopback HTTP servers, the outbox's
retries (500 then 200, 429, 4xx not retried), a receiver that is down and then up across a
restart of the alerting process, and the PagerDuty Events v2 client.

PagerDuty itself cannot run here (no network): a loopback HTTP server stands in for
events.pagerduty.com and the tests check the Events v2 body it receives.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import yaml
from typer.testing import CliRunner

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import DeliveryPolicy, from_urls, parse_config
from agentaudit.alert.delivery.outbox import backoff, deliver_due
from agentaudit.alert.engine import acknowledge, evaluate
from agentaudit.cli import app
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import load_spec
from agentaudit.store import Store
from agentaudit.testing import free_port
from tests.alerting_helpers import add_finding, config, finding_records, outbox_rows

TOKEN = "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84"  # the PocketOS replay's (fake) Railway token
ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"
FAST = {"backoff_base": "1s", "backoff_max": "4s", "max_attempts": 5, "timeout": "2s"}


def dump(store: Store) -> str:
    tables = [
        "alerts",
        "alert_members",
        "alert_groups",
        "outbox",
        "deliveries",
        "nflog",
        "finding_log",
    ]
    return json.dumps({t: store.rows(f"SELECT * FROM {t}") for t in tables}, default=str)


@pytest.fixture
def pocketos(store, redactor):
    ingest_paths(store, scenario_files("pocketos"), redactor=redactor)
    return store


def test_apprise_page_says_what_oncall_needs(pocketos):
    with LocalReceiver() as rx:
        _detect, alerts, attempts = detect_and_alert(pocketos, [rx.url()])
    assert [a["ok"] for a in attempts] == [True]
    assert len(rx.accepted()) == 1
    body = rx.accepted()[0]["body"]
    title, message = body["title"], body["message"]
    assert title.startswith("[CRITICAL] railway.graphql:volumeDelete on ")
    assert title.endswith("(production)") and body["type"] == "failure"
    for expected in (
        "Severity: critical",
        "Agent: Cursor",
        "Session: 8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c",
        "User: dev@pocketos.example",
        "Host: ",
        "Destructive call (redacted):",
        "Authorization: Bearer [SECRET:bearer_token:",
        "Environment: production",
        "came from: /home/dev/pocketos/scripts/domains/railway-domains.env",
        "Timeline:",
        "T+     0 ms",
        "Revoke the credential with fingerprint",
        "Stop agent session 8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c",
        "Check Railway's restore options for 3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13",
        "agentaudit timeline --session 8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c",
        f"agentaudit alert ack {alerts[0]['alert_id']}",
    ):
        assert expected in message, expected
    assert TOKEN not in json.dumps(rx.received)
    assert TOKEN not in dump(pocketos)


def test_500_then_200_is_delivered_exactly_once_even_after_reopening_the_store(tmp_path):
    clock = ManualClock()
    db = tmp_path / "alerts.duckdb"
    with LocalReceiver([500]) as rx:
        cfg = config([rx.url()], group_wait="0s", delivery=FAST)
        with Store.open(db) as store:
            add_finding(store, "rule-a", "critical")
            add_finding(store, "rule-b", "high", session="sess-2")
            evaluate(store, cfg, clock)
            first = deliver_due(store, cfg, clock, rng=random.Random(1))
        assert sorted((a["ok"], a["status_code"]) for a in first) == [(False, 500), (True, None)]
        # the alerting process restarts: a new Store on the same file
        with Store.open(db) as store:
            assert deliver_due(store, cfg, clock) == []  # backoff not over yet
            clock.advance(1)
            second = deliver_due(store, cfg, clock, rng=random.Random(1))
            assert [(a["ok"], a["attempt"]) for a in second] == [(True, 2)]
            clock.advance(600)  # two group_interval ticks, no change: nothing to say
            assert deliver_due(store, cfg, clock) == []
            assert evaluate(store, cfg, clock).notifications == []
            rows = store.rows(
                "SELECT attempt, ok, status_code, retryable FROM deliveries ORDER BY attempted_at, attempt"
            )
            statuses = {r["status"] for r in outbox_rows(store)}
    titles = sorted(r["body"]["title"] for r in rx.accepted())
    assert len(titles) == 2 and len(set(titles)) == 2  # each alert exactly once
    assert [r["status"] for r in rx.received].count(500) == 1
    assert {"attempt": 1, "ok": False, "status_code": 500, "retryable": True} in rows
    assert len(rows) == 3 and statuses == {"delivered"}


@pytest.mark.parametrize(
    ("status", "final"), [(429, False), (404, False), (503, False), (410, True), (400, True)]
)
def test_each_status_is_retried_or_final_as_documented(store, status, final):
    """A single 404 is not final (a route not deployed yet); 410 Gone and 400 are (retry.py)."""
    clock = ManualClock()
    with LocalReceiver([status]) as rx:
        cfg = config([rx.url(path="/hook")], group_wait="0s", delivery=FAST)
        add_finding(store, "rule-a", "critical")
        evaluate(store, cfg, clock)
        first = deliver_due(store, cfg, clock)
        for _ in range(5):
            clock.advance(10)
            deliver_due(store, cfg, clock)
        assert len(rx.received) == (1 if final else 2)
        assert len(rx.pages()) == (0 if final else 1)
    assert [(a["status_code"], a["retryable"]) for a in first] == [(status, not final)]
    row = outbox_rows(store)[0]
    assert row["status"] == ("failed" if final else "delivered")
    assert (str(status) in row["last_error"]) if final else row["last_error"] is None


def test_gives_up_after_max_attempts_and_says_so(store):
    clock = ManualClock()
    port = free_port()  # nothing listens: connection refused every time
    cfg = config([f"json://127.0.0.1:{port}/a"], group_wait="0s", delivery=FAST)
    add_finding(store, "rule-a", "critical")
    evaluate(store, cfg, clock)
    for _ in range(8):
        deliver_due(store, cfg, clock)
        clock.advance(10)
    row = outbox_rows(store)[0]
    assert (row["status"], row["attempts"]) == ("expired", 5)
    assert row["last_error"].startswith("expired after 5 attempts")
    assert store.count("deliveries") == 5


def test_backoff_is_exponential_capped_and_jittered():
    policy = DeliveryPolicy(backoff_base=timedelta(seconds=5), backoff_max=timedelta(seconds=60))
    rng = random.Random(7)
    for attempt, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)]:
        delays = {backoff(attempt, policy, rng).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not a fixed schedule


def test_a_dead_receiver_does_not_hold_detection_back(pocketos):
    url = f"json://127.0.0.1:{free_port()}/alerts"
    detect, _alerts, attempts = detect_and_alert(pocketos, [url])
    expected = {(e["rule"], e["severity"]) for e in load_spec("pocketos")["expect"]}
    assert {(f["rule_id"], f["severity"]) for f in detect.findings} == expected
    assert pocketos.count("findings") == len(detect.findings)
    assert [(a["ok"], a["retryable"]) for a in attempts] == [(False, True)]
    assert [r["status"] for r in outbox_rows(pocketos)] == ["pending"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = "from agentaudit.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # real retries across two processes
def test_receiver_down_then_up_across_a_restart_delivers_each_alert_once(tmp_path):
    port = free_port()
    db, cfg_path = tmp_path / "a.duckdb", tmp_path / "alerting.yml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "global": {"delivery": {"backoff_base": "50ms", "backoff_max": "100ms"}},
                "receivers": [
                    {"name": "team", "apprise_urls": [f"json://127.0.0.1:{port}/alerts"]}
                ],
                "route": {"receiver": "team", "group_wait": "0s"},
            }
        )
    )
    with Store.open(db) as store:
        add_finding(store, "rule-a", "critical")
        add_finding(store, "rule-a", "critical", session="sess-2")
    down = _cli("alert", "run", "--config", str(cfg_path), "--db", str(db), "--json")
    assert down.returncode == 0, down.stderr
    summary = json.loads(down.stdout)
    assert (summary["attempts"], summary["delivered"], summary["outbox_pending"]) == (2, 0, 2)
    with LocalReceiver(port=port) as rx:
        time.sleep(0.2)  # let the 50-100 ms backoff pass; nothing is timed here
        up = _cli("alert", "deliver", "--config", str(cfg_path), "--db", str(db), "--json")
        assert up.returncode == 0, up.stderr
        again = _cli("alert", "run", "--config", str(cfg_path), "--db", str(db), "--json")
        assert json.loads(again.stdout) == {
            "alerts_changed": 0,
            "notifications_queued": 0,
            "finding_records": 0,
            "attempts": 0,
            "delivered": 0,
            "not_notified": 0,
        }
    sessions = sorted(r["body"]["message"].split("Session: ")[1].split()[0] for r in rx.accepted())
    assert sessions == ["sess-2", "sess-7b1d"]
    assert len(rx.received) == 2
    with Store.open(db, read_only=True) as store:
        assert {r["status"] for r in outbox_rows(store)} == {"delivered"}
        assert store.rows("SELECT ok, count(*) AS n FROM deliveries GROUP BY ok ORDER BY ok") == [
            {"ok": False, "n": 2},
            {"ok": True, "n": 2},
        ]


def _pd_config(rx: LocalReceiver, **route):
    return parse_config(
        {
            "global": {"delivery": FAST, "resolve_timeout": route.pop("resolve_timeout", "1h")},
            "receivers": [
                {
                    "name": "oncall",
                    "pagerduty": {"routing_key": ROUTING_KEY, "url": rx.url("http", "/v2/enqueue")},
                }
            ],
            "route": {"receiver": "oncall", "group_wait": "0s", **route},
        }
    )


def test_pagerduty_trigger_ack_resolve_share_the_ocsf_finding_uid(store):
    clock = ManualClock()
    with LocalReceiver([202, 202, 202]) as rx:
        cfg = _pd_config(rx, group_interval="1m", resolve_timeout="10m")
        finding = add_finding(store, "provider-delete", "critical")
        alert_id = evaluate(store, cfg, clock).changed[0]["alert_id"]
        deliver_due(store, cfg, clock)
        acknowledge(store, cfg, alert_id, by="bob", clock=clock)
        deliver_due(store, cfg, clock)
        clock.advance(600)
        evaluate(store, cfg, clock)
        deliver_due(store, cfg, clock)
    bodies = [r["body"] for r in rx.accepted()]
    assert [b["event_action"] for b in bodies] == ["trigger", "acknowledge", "resolve"]
    assert {b["dedup_key"] for b in bodies} == {alert_id}
    assert {b["routing_key"] for b in bodies} == {ROUTING_KEY}
    assert {r["path"] for r in rx.accepted()} == {"/v2/enqueue"}
    payload = bodies[0]["payload"]
    assert payload["severity"] == "critical" and payload["source"] == "agentaudit"
    assert datetime.fromisoformat(payload["timestamp"]) == finding["first_seen"]
    assert payload["summary"].startswith("[CRITICAL]") and len(payload["summary"]) <= 1024
    assert payload["custom_details"]["alert_id"] == alert_id
    uids = {r["finding_info"]["uid"] for r in finding_records(store)}
    assert uids == {alert_id}  # dedup_key == OCSF finding_info.uid
    assert ROUTING_KEY not in dump(store)


def test_pagerduty_severity_map_and_retry_rules(store):
    clock = ManualClock()
    with LocalReceiver([429, 202, 400]) as rx:
        cfg = _pd_config(rx, group_by=["session_id", "rule_id"])
        add_finding(store, "burst", "high", session="s1")
        evaluate(store, cfg, clock)
        first = deliver_due(store, cfg, clock)
        clock.advance(10)
        second = deliver_due(store, cfg, clock)
        add_finding(store, "odd", "medium", session="s2")
        evaluate(store, cfg, clock)
        third = deliver_due(store, cfg, clock)
        clock.advance(3600)
        assert deliver_due(store, cfg, clock) == []
    assert [(a["status_code"], a["retryable"]) for a in first + second + third] == [
        (429, True),
        (202, False),
        (400, False),
    ]
    severities = [r["body"]["payload"]["severity"] for r in rx.received]
    assert severities == ["error", "error", "warning"]


def test_alert_test_sends_through_the_named_route(tmp_path):
    with LocalReceiver() as hook, LocalReceiver([202, 202]) as pd:
        cfg = tmp_path / "alerting.yml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "apprise": [{"url": hook.url(), "tags": ["soc"]}],
                    "receivers": [
                        {"name": "soc", "apprise_tags": ["soc"]},
                        {
                            "name": "oncall",
                            "pagerduty": {
                                "routing_key": ROUTING_KEY,
                                "url": pd.url("http", "/v2/enqueue"),
                            },
                        },
                    ],
                    "route": {
                        "receiver": "soc",
                        "routes": [
                            {
                                "name": "page",
                                "matchers": ["severity=critical"],
                                "receiver": "oncall",
                            }
                        ],
                    },
                }
            )
        )
        db = str(tmp_path / "t.duckdb")
        runner = CliRunner()
        soc = runner.invoke(
            app, ["alert", "test", "--route", "default", "--config", str(cfg), "--db", db]
        )
        page = runner.invoke(
            app, ["alert", "test", "--route", "page", "--config", str(cfg), "--db", db]
        )
        missing = runner.invoke(
            app, ["alert", "test", "--route", "nope", "--config", str(cfg), "--db", db]
        )
    assert soc.exit_code == 0 and page.exit_code == 0, soc.output + page.output
    assert missing.exit_code == 2
    assert [r["body"]["title"] for r in hook.received] == ["[TEST] agentaudit test notification"]
    assert [r["body"]["event_action"] for r in pd.received] == ["trigger", "resolve"]
    assert pd.received[0]["body"]["dedup_key"] == pd.received[1]["body"]["dedup_key"]


def test_secrets_in_urls_never_reach_the_store(store):
    clock = ManualClock()
    with LocalReceiver() as rx:
        url = f"json://bob:hunter2secret@127.0.0.1:{rx.port}/alerts"
        cfg = config([url], group_wait="0s")
        add_finding(store, "rule-a", "critical")
        evaluate(store, cfg, clock)
        assert [a["ok"] for a in deliver_due(store, cfg, clock)] == [True]
    assert "hunter2secret" not in dump(store)
    assert rx.accepted()[0]["headers"]["Authorization"].startswith("Basic ")


def test_notify_urls_config_sends_without_waiting():
    cfg = from_urls(["json://127.0.0.1:9/x"])
    assert cfg.route.group_wait == timedelta(0)
    assert cfg.route.group_interval == timedelta(minutes=5)


def test_delivery_budget_leaves_the_rest_due(store):
    clock = ManualClock()
    cfg = config(["json://127.0.0.1:9/a"], group_wait="0s")
    add_finding(store, "rule-a", "critical")
    evaluate(store, cfg, clock)
    assert deliver_due(store, cfg, clock, budget_seconds=-1) == []  # budget already spent
    row = outbox_rows(store)[0]
    assert (row["status"], row["attempts"]) == ("pending", 0)


class SlowThenFast:
    """A loopback server whose first answer comes after the client gave up (a timeout)."""

    def __init__(self, delay: float) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append(body)
                if len(outer.bodies) == 1:
                    time.sleep(delay)
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("kind", ["apprise", "pagerduty"])
def test_a_timeout_is_retried(store, kind):
    clock = ManualClock()
    with SlowThenFast(delay=1.5) as slow:
        receiver = {"name": "r"}
        if kind == "apprise":
            receiver["apprise_urls"] = [f"json://127.0.0.1:{slow.port}/hook"]
        else:
            receiver["pagerduty"] = {
                "routing_key": ROUTING_KEY,
                "url": f"http://127.0.0.1:{slow.port}/v2/enqueue",
            }
        cfg = parse_config(
            {
                "global": {"delivery": {**FAST, "timeout": "300ms"}},
                "receivers": [receiver],
                "route": {"receiver": "r", "group_wait": "0s"},
            }
        )
        add_finding(store, "rule-a", "critical")
        evaluate(store, cfg, clock)
        first = deliver_due(store, cfg, clock)
        clock.advance(10)
        second = deliver_due(store, cfg, clock)
    assert [(a["ok"], a["retryable"], a["status_code"]) for a in first] == [(False, True, None)]
    assert [a["ok"] for a in second] == [True]
    # the server did get the timed-out request: delivery is at least once on timeouts, and
    # PagerDuty folds the repeat into the same incident by dedup_key
    assert len(slow.bodies) == 2
