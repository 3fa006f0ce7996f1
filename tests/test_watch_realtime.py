"""`agentaudit watch` as a real subprocess: the PocketOS lines written in real time into
watched files, alerts received by a real HTTP receiver on 127.0.0.1, SIGKILL and restart."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.realtime.watch.harness import (
    GIVE_UP_SECONDS,
    WatchProcess,
    free_port,
    wait_for,
    write_config,
)
from agentaudit.realtime.watch.replay import pocketos_records, replay
from agentaudit.receiver import LocalReceiver
from agentaudit.store import Store
from tests.pocketos_expected import pages_of_one_incident

pytestmark = pytest.mark.slow  # watch as a subprocess, fed in real time

# Among what a one-shot `agentaudit detect` finds on the replay (agentaudit/scenarios/pocketos):
# environment-scope fires twice, on the refused CLI delete and on the curl. Watch must yield
# exactly what one-shot detection of the same files yields (whatever rules are installed).
EXPECTED_RULES = [
    "credential-provenance",
    "credential-read-then-destructive-use",
    "data-and-backups-destroyed",
    "destructive-burst",
    "destructive-provider-http",
    "environment-scope",
    "environment-scope",
    "failed-then-credential-hunt-then-destructive",
]


def finding_keys(findings) -> Counter:
    return Counter((f["rule_id"], f["session_id"], f["severity"], f["title"]) for f in findings)


def assert_same_findings_as_one_shot(tmp_path, logs, findings):
    """Every finding of a one-shot ingest + detect of the final files, each exactly once."""
    with Store.open(tmp_path / "oneshot.duckdb") as store:
        ingest_paths(store, [logs])
        run_detection(store)
        reference = store.rows("SELECT rule_id, session_id, severity, title FROM findings")
    assert Counter(EXPECTED_RULES) <= Counter(f["rule_id"] for f in reference), reference
    assert finding_keys(findings) == finding_keys(reference)


@pytest.fixture
def setup(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    with LocalReceiver() as receiver:
        config = write_config(
            tmp_path / "watch.yaml",
            db=str(tmp_path / "watch.duckdb"),
            paths=[str(logs)],
            notify=[receiver.url()],
            health={"port": port},
            guard={"socket": str(tmp_path / "g.sock")},
            poll_seconds=0.2,
            settle_seconds=1,
        )
        yield (
            tmp_path,
            logs,
            receiver,
            WatchProcess(config, port, {"AGENTAUDIT_LOG_LEVEL": "debug"}),
        )


def caught_up(watch: WatchProcess, quiet_passes: int) -> bool:
    """Wait until `quiet_passes` passes in a row (0.2 s apart at least) change nothing that
    /healthz counts: a condition that holds however busy the machine is, where a fixed sleep
    did not."""
    seen: dict[str, object] = {}

    def quiet() -> bool:
        state = watch.health()[1]
        counts = (state["events_ingested"], state["findings"], state["alerts_delivered"])
        if counts != seen.get("counts"):
            seen.update(counts=counts, since=state["passes"])
            return False
        return state["passes"] >= seen["since"] + quiet_passes

    return wait_for(quiet, timeout=GIVE_UP_SECONDS, step=0.05) is not None


def batch_counts(tmp_path, logs) -> Counter:
    """What a one-shot ingest of the final files stores: the exactly-once reference."""
    with Store.open(tmp_path / "batch.duckdb") as store:
        ingest_paths(store, [logs])
        return Counter(r["source"] for r in store.rows("SELECT source FROM events"))


def watched_state(tmp_path):
    with Store.open(tmp_path / "watch.duckdb", read_only=True) as store:
        events = Counter(r["source"] for r in store.rows("SELECT source FROM events"))
        findings = store.rows("SELECT rule_id, session_id, severity, title FROM findings")
        alerts = store.rows("SELECT alert_id FROM alerts")
        deliveries = store.rows("SELECT ok FROM deliveries")
    return events, findings, alerts, deliveries


def test_alert_arrives_while_the_incident_is_written(setup):
    tmp_path, logs, receiver, watch = setup
    records = pocketos_records()
    writes: dict[int, float] = {}
    with watch:
        replay(logs, records, speed=4, max_gap=0.05,
               on_write=lambda r, at: writes.setdefault(id(r), at))  # fmt: skip
        trigger = next(writes[id(r)] for r in records if r.is_trigger)
        # watch may page at the first destructive attempt (the refused CLI delete, 7.8 s of
        # scenario time before the curl): latency counts from that write
        first_destructive = next(
            writes[id(r)] for r in records if "railway volume delete" in str(r.data)
        )
        arrived = wait_for(lambda: len(receiver.received) >= 1, timeout=GIVE_UP_SECONDS)
        assert arrived is not None, watch.log.read_text()[-6000:]
        latency = arrived - first_destructive
        # the page is critical, or followed at once by its escalation to critical
        assert wait_for(
            lambda: any(r["body"]["title"].startswith("[CRITICAL]") for r in receiver.received),
            timeout=GIVE_UP_SECONDS,
        ), [r["body"]["title"] for r in receiver.received]
        assert wait_for(
            lambda: watch.health()[1]["alerts_delivered"] == len(receiver.received),
            timeout=GIVE_UP_SECONDS,
        )
        health = watch.health()
        assert watch.terminate() == 0  # SIGTERM: clean exit
    # At the first page the provider's record ("production") may not be in yet, so the
    # environment-scope findings can still be to come; the final state below is exact.
    assert health[0] == 200 and health[1]["findings"] >= 1
    assert latency > 0  # its size is measured by bench/realtime.py, not asserted here
    print(
        f"write-to-alert latency: {latency * 1000:.0f} ms (curl written {trigger - first_destructive:.2f} s after the first destructive write)"
    )
    # One incident, one alert. Which call names the first page depends on the pass that sent
    # it (the refused CLI delete or the curl, both on this volume).
    titles = pages_of_one_incident(receiver)
    body = receiver.received[-1]["body"]
    # Paged at the call itself: before the provider's own record says "production".
    assert body["title"].startswith("[CRITICAL] railway") and "3d2c42fb" in body["title"]
    assert any(call in body["message"] for call in ("volumeDelete", "railway volume delete"))
    if "graphql" in body["title"]:  # paged at the curl: the token's origin is on the page
        assert (
            "Credential read from /home/dev/pocketos/scripts/domains/railway-domains.env"
            in body["message"]
        )
    assert "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84" not in str(receiver.received)
    events, findings, alerts, deliveries = watched_state(tmp_path)
    assert_same_findings_as_one_shot(tmp_path, logs, findings)
    assert len(alerts) == 1
    assert deliveries == [{"ok": True}] * len(titles) and len(receiver.received) == len(titles)
    assert events == batch_counts(tmp_path, logs)


def test_sigkill_mid_replay_then_restart_is_exactly_once(setup):
    tmp_path, logs, receiver, watch = setup
    records = pocketos_records()
    first_trigger = next(i for i, r in enumerate(records) if r.is_trigger)
    part1, part2, part3 = (
        records[:20],
        records[20 : first_trigger + 1],
        records[first_trigger + 1 :],
    )
    watch.start()
    replay(logs, part1, speed=50, max_gap=0.01)
    watch.kill()  # no time to flush: whatever was half-done must be redone, once
    replay(logs, part2, speed=50, max_gap=0.01)  # written while nothing watches
    watch.start()
    assert wait_for(lambda: len(receiver.received) >= 1, timeout=GIVE_UP_SECONDS) is not None
    watch.kill()  # after the page: a restart must not page again
    watch.start()
    replay(logs, part3, speed=50, max_gap=0.01)
    assert wait_for(lambda: watch.health()[1]["events_ingested"] > 0, timeout=GIVE_UP_SECONDS)
    # the restarted loop has read everything and settled its shell lines (settle_seconds=1)
    assert caught_up(watch, quiet_passes=10), watch.health()
    assert watch.terminate() == 0
    events, findings, alerts, deliveries = watched_state(tmp_path)
    assert_same_findings_as_one_shot(tmp_path, logs, findings)
    assert len(alerts) == 1
    assert len(receiver.received) == 1 and deliveries == [{"ok": True}]
    assert events == batch_counts(tmp_path, logs)


def test_guard_inside_watch_denies_with_the_sessions_context(setup):
    """The resident helper in `watch` sees what watch ingested a moment ago, and its
    decision comes back into the store through the tailed decision log."""
    tmp_path, logs, receiver, watch = setup
    records = pocketos_records()
    trigger = next(i for i, r in enumerate(records) if r.is_trigger)
    curl = json.loads(records[trigger].data)["payload"]
    with watch:
        replay(logs, records[:trigger], speed=1000, max_gap=0.005)
        expected = len(records[:trigger])  # one event per record here (no railway doc yet)
        assert wait_for(
            lambda: watch.health()[1]["events_ingested"] >= expected - 1, GIVE_UP_SECONDS
        ), (
            watch.health(),
            watch.log.read_text()[-3000:],
        )
        done = subprocess.run(
            [sys.executable, "-m", "agentaudit.realtime.guard.client", "--agent", "cursor",
             "--socket", str(tmp_path / "g.sock")],
            input=json.dumps(curl), capture_output=True, text=True, timeout=GIVE_UP_SECONDS,
        )  # fmt: skip
        answer = json.loads(done.stdout)
        assert wait_for(lambda: watch.health()[1]["events_ingested"] >= expected, GIVE_UP_SECONDS)
        assert watch.terminate() == 0
    assert answer["permission"] == "deny"
    assert "scripts/domains/railway-domains.env" in answer["user_message"]
    with Store.open(tmp_path / "watch.duckdb", read_only=True) as store:
        rows = store.rows(
            "SELECT operation, status, session_id FROM events WHERE source = 'agentaudit.guard'"
        )
    assert rows == [
        {"operation": "guard.deny", "status": "denied", "session_id": curl["conversation_id"]}
    ]
    # The curl was stopped before it ran: no page says it ran. What may be paged is the
    # guard's own denial (an attempted destructive call) or the refused CLI delete before it.
    titles = [r["body"]["title"] for r in receiver.received]
    assert not any("graphql" in t for t in titles), titles
    assert all("guard.deny" in t or "railway volume delete" in t for t in titles), titles
