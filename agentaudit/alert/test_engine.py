"""Alertmanager semantics with a hand-moved clock: group_wait, group_interval, repeat,
fingerprint dedup, inhibition, silences, acknowledgement and resolve.

Outbox rows are what the engine decided to send; delivery itself is tested in
test_alert_delivery.py against real HTTP servers.
"""

from __future__ import annotations

import json

import pytest

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import parse_duration
from agentaudit.alert.engine import acknowledge, evaluate
from agentaudit.alert.silences import add_silence, expire_silence, list_silences
from tests.alerting_helpers import add_finding, config, finding_records, outbox_rows
from tests.ocsf_validation import ocsf_errors

URL = "json://127.0.0.1:9/hook"  # never contacted here: these tests stop at the outbox


@pytest.fixture
def clock():
    return ManualClock()


def sent(store):
    return [(row["action"], json.loads(row["payload"])["title"]) for row in outbox_rows(store)]


def test_group_wait_collects_a_burst_into_one_notification(store, clock):
    cfg = config([URL], group_wait="30s", group_interval="5m")
    add_finding(store, "rule-a", "critical")
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(10)
    add_finding(store, "rule-b", "critical", seconds=5)
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(19)
    assert evaluate(store, cfg, clock).notifications == []  # 29 s: still waiting
    clock.advance(1)
    notes = evaluate(store, cfg, clock).notifications
    assert len(notes) == 1
    body = json.loads(notes[0]["payload"])["body"]
    assert "(rule-a)" in body and "(rule-b)" in body
    # both alerts are in ONE group: one alert row, two members
    assert store.count("alerts") == 1
    assert store.rows("SELECT count(*) AS n FROM alert_members")[0]["n"] == 2


def test_new_alert_after_first_send_waits_for_group_interval(store, clock):
    cfg = config([URL], group_wait="30s", group_interval="5m")
    add_finding(store, "rule-a", "critical")
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(30)
    assert len(evaluate(store, cfg, clock).notifications) == 1
    clock.advance(60)
    add_finding(store, "rule-b", "critical", seconds=60)
    assert evaluate(store, cfg, clock).notifications == []  # tick is at 30 s + 5 m
    clock.advance(239)
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(1)
    notes = evaluate(store, cfg, clock).notifications
    assert len(notes) == 1 and "(rule-b)" in json.loads(notes[0]["payload"])["body"]


def test_escalation_to_critical_is_sent_at_once_not_at_group_interval(store, clock):
    # agentaudit's `flush_on_escalation` (Alertmanager would wait for the group's next tick)
    cfg = config([URL], group_wait="0s", group_interval="5m", flush_on_escalation=True)
    add_finding(store, "rule-a", "high")
    first = sent_now(store, cfg, clock)
    assert len(first) == 1 and first[0][1].startswith("[HIGH]")
    clock.advance(3)
    add_finding(store, "rule-b", "high", seconds=3, key="k2")  # same severity: waits
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(3)
    add_finding(store, "rule-c", "critical", seconds=6, key="k3")  # escalates: at once
    notes = evaluate(store, cfg, clock).notifications
    assert len(notes) == 1 and json.loads(notes[0]["payload"])["title"].startswith("[CRITICAL]")
    assert store.count("alerts") == 1  # still one incident
    clock.advance(3)
    add_finding(store, "rule-d", "critical", seconds=9, key="k4")  # no higher: group_interval
    assert evaluate(store, cfg, clock).notifications == []


def sent_now(store, cfg, clock):
    return [
        (n["action"], json.loads(n["payload"])["title"])
        for n in evaluate(store, cfg, clock).notifications
    ]


def test_unchanged_group_repeats_only_after_repeat_interval(store, clock):
    cfg = config(
        [URL], group_wait="0s", group_interval="5m", repeat_interval="1h", resolve_timeout="24h"
    )
    add_finding(store, "rule-a", "critical")
    assert len(evaluate(store, cfg, clock).notifications) == 1
    repeats = []
    for _tick in range(13):  # 13 ticks of 5 m = 65 m
        clock.advance(300)
        repeats.append([n["action"] for n in evaluate(store, cfg, clock).notifications])
    # Alertmanager repeats on the first tick after repeat_interval has passed: at 60 m exactly
    # the last send is not yet older than an hour, so the repeat goes at 65 m
    assert repeats == [[]] * 12 + [["trigger"]]


def test_acknowledged_group_does_not_repeat(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m", repeat_interval="10m")
    add_finding(store, "rule-a", "critical")
    alert_id = evaluate(store, cfg, clock).changed[0]["alert_id"]
    acked = acknowledge(store, cfg, alert_id[:8], by="oncall-bob", clock=clock)
    assert acked["acknowledged_by"] == "oncall-bob"
    for _tick in range(6):
        clock.advance(300)
        assert evaluate(store, cfg, clock).notifications == []
    update = finding_records(store)[-1]
    assert (update["activity_id"], update["status_id"]) == (2, 2)  # Update, In Progress
    assert update["status_detail"] == "acknowledged by oncall-bob"


def test_same_fingerprint_is_one_alert(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m")
    add_finding(store, "rule-a", "critical", key="first")
    assert len(evaluate(store, cfg, clock).notifications) == 1
    clock.advance(300)
    add_finding(store, "rule-a", "critical", key="second", seconds=200)
    assert evaluate(store, cfg, clock).notifications == []  # same labels: nothing new to say
    members = store.rows("SELECT fingerprint, finding_ids FROM alert_members")
    assert len(members) == 1 and len(members[0]["finding_ids"]) == 2


def test_critical_inhibits_warnings_of_its_group_only(store, clock):
    cfg = config([URL], group_wait="0s")
    add_finding(store, "burst", "high", key="b")
    add_finding(store, "provider-delete", "critical", key="p")
    add_finding(store, "burst", "high", session="other-session", key="o")
    notes = evaluate(store, cfg, clock).notifications
    assert len(notes) == 2  # one per session group
    mine = next(n for n in notes if "provider-delete" in json.loads(n["payload"])["body"])
    body = json.loads(mine["payload"])["body"]
    findings_part = body.split("Also matched")[0]
    assert "(burst)" not in findings_part and "muted by inhibition" in body
    other = next(n for n in notes if n is not mine)
    assert "(burst)" in json.loads(other["payload"])["body"].split("Also matched")[0]
    burst = store.rows(
        """SELECT m.state, m.inhibited_by FROM alert_members m JOIN alerts a USING (alert_id)
           WHERE m.rule_id = 'burst' AND a.session_id = 'sess-7b1d'"""
    )[0]
    assert burst["state"] == "suppressed" and len(burst["inhibited_by"]) == 1


def test_inhibited_alone_sends_nothing_and_records_suppressed(store, clock):
    cfg = config(
        [URL],
        group_wait="0s",
        group_by=["session_id", "rule_id"],
        inhibit_rules=[
            {
                "source_matchers": ["severity=critical"],
                "target_matchers": ["severity=high"],
                "equal": ["session_id"],
            }
        ],
    )
    add_finding(store, "burst", "high", key="b")
    add_finding(store, "provider-delete", "critical", key="p")
    notes = evaluate(store, cfg, clock).notifications
    assert [("(provider-delete)" in json.loads(n["payload"])["body"]) for n in notes] == [True]
    burst_record = next(
        r for r in finding_records(store) if r["finding_info"]["analytic"]["uid"] == "burst"
    )
    assert burst_record["status_id"] == 3  # Suppressed
    assert burst_record["is_alert"] is False


def test_an_alert_matching_both_sides_of_a_rule_is_not_inhibited(store, clock):
    """Alertmanager's rule (the issue's PocketOS case): with target `critical|high`, the
    critical alerts match source and target, so they stay; the high one is muted."""
    cfg = config(
        [URL],
        group_wait="0s",
        inhibit_rules=[
            {
                "source_matchers": ["severity=critical"],
                "target_matchers": ["severity=~critical|high"],
                "equal": ["session_id"],
            }
        ],
    )
    add_finding(store, "provider-delete", "critical", key="p")
    add_finding(store, "scope-escape", "critical", key="s")
    add_finding(store, "burst", "high", key="b")
    evaluate(store, cfg, clock)
    states = {r["rule_id"]: r["state"] for r in store.rows("SELECT * FROM alert_members")}
    assert states == {"provider-delete": "active", "scope-escape": "active", "burst": "suppressed"}


def test_equal_on_a_label_both_lack_inhibits(store, clock):
    """`equal` compares a missing label as empty: missing on both sides is equal."""
    rule = {"source_matchers": ["severity=critical"], "target_matchers": ["severity=high"]}
    cfg = config([URL], group_wait="0s", inhibit_rules=[{**rule, "equal": ["environment"]}])
    add_finding(store, "provider-delete", "critical", key="p", command="ls -la")
    add_finding(store, "burst", "high", key="b", command="ls -la")
    add_finding(store, "scope-escape", "high", key="s", session="other")  # in production
    evaluate(store, cfg, clock)
    rows = store.rows("SELECT rule_id, state, labels FROM alert_members")
    assert all("environment" not in r["labels"] for r in rows if r["rule_id"] != "scope-escape")
    states = {r["rule_id"]: r["state"] for r in rows}
    assert states == {"provider-delete": "active", "burst": "suppressed", "scope-escape": "active"}


def test_silence_mutes_until_it_expires(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m", resolve_timeout="24h")
    silence = add_silence(
        store, ["rule_id=rule-a"], parse_duration("2h"), comment="maintenance", clock=clock
    )
    add_finding(store, "rule-a", "critical")
    assert evaluate(store, cfg, clock).notifications == []
    assert finding_records(store)[-1]["status_id"] == 3  # Suppressed
    clock.advance(3600)
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(3600)  # the silence ended at 2 h
    assert [s.silence_id for s in list_silences(store, clock=clock)] == []
    notes = evaluate(store, cfg, clock).notifications
    assert len(notes) == 1 and silence.state(clock.now()) == "expired"


def test_expiring_a_silence_early_sends_at_the_next_tick(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m")
    silence = add_silence(
        store, ["severity=~crit.*"], parse_duration("4h"), comment="x", clock=clock
    )
    add_finding(store, "rule-a", "critical")
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(60)
    assert (
        expire_silence(store, silence.silence_id[:6], clock=clock).state(clock.now()) == "expired"
    )
    clock.advance(240)
    assert len(evaluate(store, cfg, clock).notifications) == 1


def test_a_silence_that_does_not_match_mutes_nothing(store, clock):
    cfg = config([URL], group_wait="0s")
    add_silence(store, ["rule_id=something-else"], parse_duration("1h"), comment="x", clock=clock)
    add_finding(store, "rule-a", "critical")
    assert len(evaluate(store, cfg, clock).notifications) == 1


def test_quiet_group_resolves_and_sends_resolved(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m", resolve_timeout="10m")
    add_finding(store, "rule-a", "critical")
    first = evaluate(store, cfg, clock)
    assert [n["action"] for n in first.notifications] == ["trigger"]
    clock.advance(300)
    assert evaluate(store, cfg, clock).notifications == []
    clock.advance(300)  # 10 m without a new alert
    notes = evaluate(store, cfg, clock).notifications
    assert [n["action"] for n in notes] == ["resolve"]
    payload = json.loads(notes[0]["payload"])
    assert payload["title"].startswith("[RESOLVED]") and payload["notify_type"] == "success"
    close = finding_records(store)[-1]
    assert (close["activity_id"], close["status_id"], close["is_alert"]) == (3, 4, False)
    assert store.rows("SELECT DISTINCT status FROM findings") == [{"status": "resolved"}]
    clock.advance(3600)
    assert evaluate(store, cfg, clock).notifications == []  # nothing more after resolve


def test_resolved_within_group_wait_is_never_sent(store, clock):
    cfg = config([URL], group_wait="30m", resolve_timeout="10m")
    add_finding(store, "rule-a", "critical")
    evaluate(store, cfg, clock)
    clock.advance(600)
    evaluate(store, cfg, clock)
    clock.advance(1800)
    assert evaluate(store, cfg, clock).notifications == []
    assert sent(store) == []


def test_send_resolved_false_stays_quiet_on_resolve(store, clock):
    cfg = config([URL], group_wait="0s", resolve_timeout="5m", send_resolved=False)
    add_finding(store, "rule-a", "critical")
    evaluate(store, cfg, clock)
    clock.advance(300)
    evaluate(store, cfg, clock)
    clock.advance(300)
    evaluate(store, cfg, clock)
    assert [a for a, _ in sent(store)] == ["trigger"]


def test_same_key_after_resolve_is_a_new_incident(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="1m", resolve_timeout="5m")
    add_finding(store, "rule-a", "critical", key="one")
    alert_id = evaluate(store, cfg, clock).changed[0]["alert_id"]
    clock.advance(300)
    evaluate(store, cfg, clock)
    clock.advance(60)
    evaluate(store, cfg, clock)
    add_finding(store, "rule-a", "critical", key="two", seconds=900)
    changed = evaluate(store, cfg, clock).changed
    assert [a["alert_id"] for a in changed] == [alert_id]  # same key, same dedup key
    assert [a for a, _ in sent(store)] == ["trigger", "resolve", "trigger"]
    activities = [r["activity_id"] for r in finding_records(store)]
    assert activities == [1, 3, 1]


def test_every_lifecycle_record_validates_and_uses_the_alert_id(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="1m", resolve_timeout="5m")
    add_finding(store, "burst", "high", key="b")
    add_finding(store, "provider-delete", "critical", key="p")
    alert_id = evaluate(store, cfg, clock).changed[0]["alert_id"]
    acknowledge(store, cfg, alert_id, by="bob", clock=clock)
    clock.advance(300)
    evaluate(store, cfg, clock)
    records = finding_records(store)
    assert [r["activity_id"] for r in records] == [1, 2, 2, 3]
    for record in records:
        assert ocsf_errors(record) == []
        assert record["finding_info"]["uid"] == alert_id
    assert records[0]["severity_id"] == 5  # the critical is named first


def test_silencing_part_of_a_notified_group_is_recorded_but_not_paged(store, clock):
    cfg = config([URL], group_wait="0s", group_interval="5m", group_by=["session_id"])
    add_finding(store, "rule-a", "critical", key="a")
    add_finding(store, "rule-b", "high", key="b", command="ls -la")  # not destructive: no inhibit
    assert len(evaluate(store, cfg, clock).notifications) == 1
    add_silence(store, ["rule_id=rule-b"], parse_duration("1h"), comment="known", clock=clock)
    clock.advance(300)
    assert evaluate(store, cfg, clock).notifications == []
    update = finding_records(store)[-1]
    assert update["status_detail"] == "alert rule-b silenced"
    assert update["status_id"] == 1  # rule-a still fires: the finding is not Suppressed


INHIBIT_ACROSS_GROUPS = [
    {"source_matchers": ["severity=critical"], "target_matchers": ["severity=high"],
     "equal": ["session_id"]}
]  # fmt: skip


def test_scoped_evaluation_decides_what_the_full_one_decides(tmp_path, clock):
    """`scope` (what watch passes: the pass's new findings) touches only those findings'
    groups, yet inhibition reaches into other groups and a timer tick still flushes."""
    from agentaudit.store import Store

    cfg = config([URL], group_wait="0s", group_by=["session_id", "rule_id"],
                 inhibit_rules=INHIBIT_ACROSS_GROUPS)  # fmt: skip
    outcomes = []
    for scoped in (False, True):
        with Store.open(tmp_path / f"scoped-{scoped}.duckdb") as store:
            burst = add_finding(store, "burst", "high", key="b")
            first = evaluate(store, cfg, clock, scope=[burst["finding_id"]] if scoped else None)
            assert len(first.notifications) == 1  # the burst alone pages
            clock.advance(60)
            critical = add_finding(store, "provider-delete", "critical", key="p", seconds=60)
            evaluate(store, cfg, clock, scope=[critical["finding_id"]] if scoped else None)
            clock.advance(300)
            evaluate(store, cfg, clock, scope=[] if scoped else None)  # a timer tick
            outcomes.append(
                (
                    sent(store),
                    store.rows("SELECT rule_id, state FROM alert_members ORDER BY rule_id"),
                    store.rows("SELECT status FROM alerts ORDER BY group_key"),
                )
            )
    assert outcomes[0] == outcomes[1]
    members = dict((m["rule_id"], m["state"]) for m in outcomes[1][1])
    assert members == {"burst": "suppressed", "provider-delete": "active"}


def test_scoped_evaluation_leaves_findings_already_in_alerts_alone(store, clock):
    cfg = config([URL], group_wait="0s")
    finding = add_finding(store, "rule-a", "critical")
    assert len(evaluate(store, cfg, clock, scope=[finding["finding_id"]]).notifications) == 1
    # the finding gains evidence later (watch merges it): its alert membership stays as is
    store.con.execute(
        "UPDATE findings SET title = 'more evidence' WHERE finding_id = ?",
        [finding["finding_id"]],
    )
    clock.advance(600)
    again = evaluate(store, cfg, clock, scope=[finding["finding_id"]])
    assert again.changed == [] and again.notifications == []
    assert store.rows("SELECT count(*) AS n FROM alert_members")[0]["n"] == 1
