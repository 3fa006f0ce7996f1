"""The Alertmanager harness against the real Alertmanager (Debian's prometheus-alertmanager).

These tests check the harness and pin the Alertmanager behaviours that the differential test
(issue 20) relies on; the semantics are written up in tests/data/alertmanager/SEMANTICS.md.
Run only these: ``pytest -m alertmanager``. CI installs the binary with .ci/install-alertmanager.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.alertmanager_harness import (
    alertmanager,
    binary_version,
    duration,
    find_binary,
    summarize,
    validate_config,
)

pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(
        find_binary() is None,
        reason="Alertmanager binary not found: apt-get install prometheus-alertmanager "
        "(or bash .ci/install-alertmanager; ALERTMANAGER_BIN overrides the path)",
    ),
]

# Small timers: Alertmanager honours them to the millisecond (see SEMANTICS.md, "Timers").
FAST = {"group_wait": 0.05, "group_interval": 0.2, "repeat_interval": 3600}


def who_got(notes):
    """{receiver: sorted alertnames that receiver was notified of while firing}."""
    out: dict[str, set[str]] = {}
    for n in notes:
        for a in n["alerts"]:
            if a["status"] == "firing":
                out.setdefault(n["receiver"], set()).add(a["labels"]["alertname"])
    return {k: sorted(v) for k, v in out.items()}


def by_name(alerts):
    return {a["labels"]["alertname"]: a for a in alerts}


def test_binary_version_is_recorded():
    # Debian bookworm ships 0.25.0; SEMANTICS.md was observed on that version.
    assert binary_version().count(".") == 2


def test_duration_strings():
    assert duration(0) == "0s"
    assert duration(0.05) == "50ms"
    assert duration(2) == "2s"
    assert duration(3600) == "3600s"
    assert duration("5m") == "5m"


def test_route_with_continue_notifies_two_receivers():
    cfg = {
        "route": {
            "receiver": "default",
            "group_by": ["alertname"],
            **FAST,
            "routes": [
                {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
                {"matchers": ['team="sec"'], "receiver": "slack"},
                {"matchers": ['team="sec"'], "receiver": "never"},  # first match wins
            ],
        }
    }
    with alertmanager(cfg) as am:
        am.post_alerts(
            [
                {"labels": {"alertname": "Both", "severity": "critical", "team": "sec"}},
                {"labels": {"alertname": "SecOnly", "severity": "low", "team": "sec"}},
                {"labels": {"alertname": "Neither", "severity": "low"}},
            ]
        )
        notes = am.wait_notifications(4, timeout=60)
        notes = am.wait_quiet(0.3)
    assert who_got(notes) == {
        "pager": ["Both"],
        "slack": ["Both", "SecOnly"],
        "default": ["Neither"],
    }
    keys = {n["groupKey"] for n in notes}
    # group key: the matchers of each route on the path from the root, then the group labels
    assert '{}/{severity="critical"}:{alertname="Both"}' in keys
    assert '{}/{team="sec"}:{alertname="SecOnly"}' in keys
    assert '{}:{alertname="Neither"}' in keys
    assert all(n["status"] == "firing" for n in notes)


def test_inhibition_keeps_alerts_matching_both_source_and_target():
    # Alertmanager: an alert matching both sides of a rule is not inhibited by alerts for
    # which the same is true (including itself), so two criticals survive their own rule.
    cfg = {
        # group_wait gives the inhibitor time to see the sources before targets flush
        "route": {
            "receiver": "pager",
            "group_by": ["alertname", "session"],
            **FAST,
            "group_wait": 0.3,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"critical|high"'],
                "equal": ["session"],
            }
        ],
    }
    with alertmanager(cfg) as am:
        am.post_alerts(
            [
                {"labels": {"alertname": "Crit1", "severity": "critical", "session": "s1"}},
                {"labels": {"alertname": "Crit2", "severity": "critical", "session": "s1"}},
                {"labels": {"alertname": "High1", "severity": "high", "session": "s1"}},
                {"labels": {"alertname": "High2", "severity": "high", "session": "s2"}},
                {"labels": {"alertname": "HighNoSession", "severity": "high"}},
            ]
        )
        notes = am.wait_notifications(4, timeout=60)
        notes = am.wait_quiet(0.3)
        alerts = by_name(am.alerts())
    assert who_got(notes) == {"pager": ["Crit1", "Crit2", "High2", "HighNoSession"]}
    crit_fps = {alerts["Crit1"]["fingerprint"], alerts["Crit2"]["fingerprint"]}
    assert alerts["High1"]["status"]["state"] == "suppressed"
    assert set(alerts["High1"]["status"]["inhibitedBy"]) <= crit_fps
    assert alerts["High1"]["status"]["inhibitedBy"]
    for name in ("Crit1", "Crit2", "High2", "HighNoSession"):
        assert alerts[name]["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}


def test_silence_suppresses_and_a_silence_on_a_missing_label_matches_nothing():
    cfg = {"route": {"receiver": "pager", "group_by": ["alertname"], **FAST, "group_wait": 0.3}}
    with alertmanager(cfg) as am:
        sid = am.add_silence(['alertname="Muted"'])
        ghost = am.add_silence(['no_such_label="x"'])  # accepted; never matches
        am.post_alerts(
            [
                {"labels": {"alertname": "Muted", "severity": "critical"}},
                {"labels": {"alertname": "Loud", "severity": "critical"}},
            ]
        )
        notes = am.wait_notifications(1, timeout=60)
        notes = am.wait_quiet(0.5)
        alerts = by_name(am.alerts())
        assert who_got(notes) == {"pager": ["Loud"]}
        assert alerts["Muted"]["status"] == {
            "inhibitedBy": [],
            "silencedBy": [sid],
            "state": "suppressed",
        }
        assert alerts["Loud"]["status"]["silencedBy"] == []
        assert {s["id"] for s in am.silences()} == {sid, ghost}
        # expiring the silence lets the muted alert through at the group's next flush
        am.expire_silence(sid)
        notes = am.wait_notifications(2, timeout=60)
    assert who_got(notes) == {"pager": ["Loud", "Muted"]}


def test_resolved_alert_is_sent_when_send_resolved():
    cfg = {"route": {"receiver": "pager", "group_by": ["alertname"], **FAST}}
    with alertmanager(cfg) as am:
        am.post_alerts([{"labels": {"alertname": "A"}}])
        am.wait_notifications(1, timeout=60)
        am.post_alerts([{"labels": {"alertname": "A"}, "endsAt": time.time() - 1}])
        notes = am.wait_notifications(2, timeout=60)
    assert [n["status"] for n in notes] == ["firing", "resolved"]
    assert notes[1]["alerts"][0]["status"] == "resolved"
    label = (("alertname", "A"),)
    assert summarize(notes) == {
        "pager": {
            '{}:{alertname="A"}': [
                {"status": "firing", "alerts": [(label, "firing")]},
                {"status": "resolved", "alerts": [(label, "resolved")]},
            ]
        }
    }


def test_config_errors_come_from_alertmanager():
    def check(route, **rest):
        # validate_config keeps Alertmanager's own 'undefined receiver' check
        return validate_config({"route": route, "receivers": [{"name": "default"}], **rest})

    base = {"receiver": "default", **FAST}
    assert check(base) is None
    assert "group_wiat not found" in check({**base, "group_wiat": "1s"})
    assert "group_interval cannot be zero" in check({**base, "group_interval": 0})
    assert "undefined receiver" in check({**base, "routes": [{"receiver": "nope"}]})
    assert "not a valid duration" in check({**base, "group_wait": "0.5s"})
    # 0.25 still loads the deprecated keys (match, match_re, source_match, target_match)
    legacy_route = {**base, "routes": [{"match": {"severity": "critical"}}]}
    legacy_rule = {"source_match": {"severity": "critical"}, "target_match": {"severity": "high"}}
    assert check(legacy_route, inhibit_rules=[legacy_rule]) is None


def test_parallel_instances_run_twenty_sequences():
    # The differential test runs 20+ sequences on parallel instances; how long they take is
    # not asserted here (a busy machine would fail it, and speed belongs in bench/).
    def one(i: int) -> list[str]:
        cfg = {"route": {"receiver": f"r{i}", "group_by": ["alertname"], **FAST}}
        with alertmanager(cfg) as am:
            am.post_alerts([{"labels": {"alertname": f"A{i}"}}])
            am.wait_notifications(1, timeout=60)  # a bound for a hang
            am.post_alerts([{"labels": {"alertname": f"A{i}"}, "endsAt": time.time() - 1}])
            notes = am.wait_notifications(2, timeout=60)
        return [n["status"] for n in notes]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(20)))
    assert results == [["firing", "resolved"]] * 20
