"""The finding policy: identity, restating a known finding, superseding after a late link."""

from __future__ import annotations

import json
from datetime import timedelta

from agentaudit.detect.driver import run_detection
from agentaudit.detect.record import record_findings, restate
from agentaudit.detect.sql.destructive_provider_http import DestructiveProviderHttp
from agentaudit.store import now
from agentaudit.testing import event, store_with

CURL = (
    "curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer x' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"v-1\\") }"}\''
)


def finding(events: list[str], severity: str = "high", title: str = "t") -> dict:
    at = now()
    return {
        "finding_id": "f1", "rule_id": "r", "title": title, "severity": severity,
        "kind": "rule", "first_seen": at, "last_seen": at + timedelta(seconds=len(events)),
        "event_ids": events, "session_id": "s1", "group_key": "session:s1",
        "status": "open", "evidence": "{}", "created_at": at,
    }  # fmt: skip


def test_a_run_that_saw_all_of_a_finding_states_it_as_it_is_now():
    old = finding(["a", "b"], severity="critical")
    new = finding(["b", "c"], severity="high", title="now")
    restated = restate(old, new, unseen=[])
    assert restated["event_ids"] == ["b", "c"] and restated["severity"] == "high"
    assert restated["title"] == "now" and restated["last_seen"] == new["last_seen"]


def test_what_a_window_could_not_see_stays_and_then_the_finding_only_widens():
    old = finding(["a", "b"], severity="critical")
    new = finding(["b", "c"], severity="high", title="now")
    restated = restate(old, new, unseen=["a"])
    assert restated["event_ids"] == ["b", "c", "a"]
    assert restated["severity"] == "critical" and restated["title"] == "now"


def test_record_restates_only_the_events_in_scope():
    store = store_with([])
    record_findings(store, [finding(["a", "b"])])
    recorded = record_findings(store, [finding(["b", "c"])], in_scope=lambda ids: {"b"})
    assert recorded.updated == ["f1"] and recorded.new == []
    assert store.rows("SELECT event_ids FROM findings") == [{"event_ids": ["b", "c", "a"]}]


def test_a_shell_line_judged_before_its_agent_call_arrived_is_superseded_not_repeated():
    """One-shot detect on the shell history alone judges the curl in its shell session; once
    the agent's hook log is in, the same call is the agent's: one open finding, under the
    agent's session, and the earlier one names it."""
    line = event(1, source="shell.zsh", command=CURL)
    call = event(0, session_id="s1", command=CURL, tool_call_id="c1")
    store = store_with([line])
    early = run_detection(store, [DestructiveProviderHttp()]).new
    assert [f["session_id"][:6] for f in early] == ["shell:"]
    store.append_events([call])
    report = run_detection(store, [DestructiveProviderHttp()])
    assert [f["session_id"] for f in report.new] == ["s1"]
    assert report.superseded == [early[0]["finding_id"]]
    rows = store.rows("SELECT finding_id, session_id, status, evidence FROM findings")
    open_ = [r for r in rows if r["status"] == "open"]
    assert [r["session_id"] for r in open_] == ["s1"]
    (resolved,) = [r for r in rows if r["status"] == "resolved"]
    assert json.loads(resolved["evidence"])["superseded_by"] == [open_[0]["finding_id"]]
