"""The `alertmanager: {url}` receiver against the real Alertmanager (Debian's
prometheus-alertmanager on 127.0.0.1, started by the harness): what agentaudit forwards is
accepted by /api/v2/alerts, routed and inhibited by that Alertmanager's own configuration,
and resolved when agentaudit resolves it. Nothing is mocked; the clock is the real one because
Alertmanager's is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from agentaudit.alert.config import parse_config
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import evaluate
from agentaudit.testing import at
from tests.alerting_helpers import add_finding
from tests.alertmanager_harness import alertmanager, find_binary, free_port

pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(
        find_binary() is None,
        reason="Alertmanager binary not found: apt-get install prometheus-alertmanager "
        "(or bash .ci/install-alertmanager; ALERTMANAGER_BIN overrides the path)",
    ),
]

# The team's own Alertmanager: critical alerts to on-call, the rest to a ticket queue, and a
# critical alert of a session inhibits the session's lower ones. group_wait leaves its
# inhibitor time to see the source alert on a busy machine (both arrive in one POST).
TEAM_AM = {
    "route": {
        "receiver": "tickets",
        "group_by": ["session_id"],
        "group_wait": 1,
        "group_interval": 0.2,
        "repeat_interval": 3600,
        "routes": [{"receiver": "oncall", "matchers": ['severity="critical"']}],
    },
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity=~"high|medium"'],
            "equal": ["session_id"],
        }
    ],
}


def forwarding_config(url: str, resolve_timeout: str = "1h"):
    """Routing and muting left to the team's Alertmanager: `inhibit_rules: []` (agentaudit's
    default rule would mute the high alert here, and a muted alert is not forwarded)."""
    return parse_config(
        {
            "global": {"resolve_timeout": resolve_timeout},
            "inhibit_rules": [],
            "receivers": [{"name": "team-am", "alertmanager": {"url": url}}],
            "route": {"receiver": "team-am", "group_wait": "0s", "group_interval": "1s"},
        }
    )


def seconds_ago(seconds: float) -> float:
    """`add_finding`'s time offset for evidence `seconds` before now. Alertmanager counts
    group_wait from an alert's startsAt (the first evidence): an alert older than group_wait
    is flushed at once (dispatch.go, aggrGroup.insert), before its inhibitor may have seen the
    source. Recent evidence keeps group_wait, as for a live session (unless the machine is
    slower than group_wait between posting and forwarding)."""
    return (datetime.now(UTC) - at(0)).total_seconds() - seconds


def by_rule(alerts):
    return {a["labels"]["rule_id"]: a for a in alerts}


def test_alerts_are_forwarded_routed_and_inhibited_by_the_teams_alertmanager(store):
    with alertmanager(TEAM_AM) as am:
        cfg = forwarding_config(am.base + "/")  # a trailing slash is tolerated
        critical = add_finding(store, "destroy-volume", "critical", seconds=seconds_ago(1))
        add_finding(store, "env-file-read", "high", seconds=seconds_ago(0), key="k2")
        report = evaluate(store, cfg)
        assert report.unsent == [] and len(report.notifications) == 1
        attempts = deliver_due(store, cfg)
        assert [(a["ok"], a["status_code"]) for a in attempts] == [(True, 200)]

        alerts = by_rule(am.alerts())
        assert set(alerts) == {"destroy-volume", "env-file-read"}
        crit = alerts["destroy-volume"]
        assert crit["labels"]["severity"] == "critical"
        assert crit["labels"]["session_id"] == critical["session_id"]
        assert crit["annotations"]["agentaudit_findings"] == critical["finding_id"]
        incident = store.rows("SELECT alert_id FROM alerts")[0]["alert_id"]
        assert crit["annotations"]["agentaudit_incident"] == incident
        # that Alertmanager's own inhibit rule applies to what agentaudit forwarded
        assert crit["status"]["state"] == "active"
        assert alerts["env-file-read"]["status"]["inhibitedBy"] == [crit["fingerprint"]]

        # routed by that Alertmanager's tree: the critical alert to on-call, never to tickets.
        # (Whether the high one reaches tickets before its inhibitor has seen the source is
        # Alertmanager's own race on a busy machine: SEMANTICS.md, "Timers"; not asserted.)
        am.wait_notifications(1, timeout=30)
        notes = am.wait_quiet(0.5, timeout=5)
        got = {(n["receiver"], a["labels"]["rule_id"]) for n in notes for a in n["alerts"]}
        assert ("oncall", "destroy-volume") in got
        assert {rule for receiver, rule in got if receiver == "oncall"} == {"destroy-volume"}
        assert ("tickets", "destroy-volume") not in got


def test_resolving_in_agentaudit_resolves_in_alertmanager(store):
    with alertmanager(TEAM_AM) as am:
        cfg = forwarding_config(am.base, resolve_timeout="5s")
        add_finding(store, "destroy-volume", "critical")
        evaluate(store, cfg)
        assert [a["ok"] for a in deliver_due(store, cfg)] == [True]
        firing = am.wait_notifications(1, timeout=30)
        assert [n["status"] for n in firing] == ["firing"]

        ends_at = store.rows("SELECT ends_at FROM alert_members")[0]["ends_at"]
        time.sleep(max(0.0, (ends_at - datetime.now(UTC)).total_seconds()) + 0.2)
        evaluate(store, cfg)  # past resolve_timeout: the alert has ended in agentaudit
        sent = deliver_due(store, cfg)
        assert [(a["action"], a["ok"]) for a in sent] == [("forward", True)]
        assert am.alerts() == []  # /api/v2/alerts lists only alerts that have not ended
        notes = am.wait_notifications(2, timeout=30)
        assert [n["status"] for n in notes] == ["firing", "resolved"]
        assert notes[-1]["alerts"][0]["labels"]["rule_id"] == "destroy-volume"


def test_two_routes_to_one_alertmanager_forward_every_alert(store):
    """Two groups of one incident (routes with `continue`) queued in the same tick: the
    second outbox row carries the first one's alerts, so the team's Alertmanager gets both."""
    with alertmanager(TEAM_AM) as am:
        data = {
            "inhibit_rules": [],
            "receivers": [
                {"name": "am-critical", "alertmanager": {"url": am.base}},
                {"name": "am-rest", "alertmanager": {"url": am.base}},
            ],
            "route": {
                "receiver": "am-rest",
                "group_wait": "0s",
                "group_by": ["session_id", "severity"],
                "incident_by": ["session_id"],
                "routes": [{"receiver": "am-critical", "matchers": ["severity=critical"]}],
            },
        }
        data["incident_by"] = data["route"].pop("incident_by")
        cfg = parse_config(data)
        add_finding(store, "destroy-volume", "critical", seconds=seconds_ago(1))
        add_finding(store, "env-file-read", "high", seconds=seconds_ago(0), key="k2")
        report = evaluate(store, cfg)
        assert sorted(n.receiver for n in report.dispatched) == ["am-critical", "am-rest"]
        assert store.count("alerts") == 1  # one incident, two groups
        (attempt,) = deliver_due(store, cfg)  # one row per incident and Alertmanager
        assert attempt["ok"]
        assert set(by_rule(am.alerts())) == {"destroy-volume", "env-file-read"}


def test_an_alertmanager_that_is_down_is_retried_not_lost(store):
    cfg = forwarding_config(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    add_finding(store, "destroy-volume", "critical")
    evaluate(store, cfg)
    (attempt,) = deliver_due(store, cfg)
    assert attempt["ok"] is False and attempt["retryable"] is True
    assert attempt["outbox_status"] == "pending"
    assert "network error" in attempt["detail"]
