"""Every built-in incident replay is detected with its expected findings, early enough.

The parts of a scenario that need a collector not registered yet (Claude Code transcripts,
CloudTrail, Gemini CLI sessions, PowerShell history) are reported by a separate test that
skips naming the missing collector; everything the registered collectors read must hold now.
"""

from __future__ import annotations

import pytest

from agentaudit.scenarios.replay import replay, scenario_names
from agentaudit.store import Store

# Replays written for issue 16 (incidents, links, severity that respects the task). Those in
# ISSUE_16_PENDING do not meet every issue-16 key yet: they are read whole, and their open
# problems are listed by an xfail (strict: one that starts passing must move to the full checks).
ISSUE_16 = {
    "codex-terraform-destroy",
    "gemini-cloudsql-drop",
    "openhands-eks-delete",
    "cursor-github-protection",
    "claude-hooks-azure-rg-delete",
    "benign-busy-claude",
    "benign-busy-codex",
}
ISSUE_16_PENDING: set[str] = set()
BENIGN = {"benign-busy-claude", "benign-busy-codex"}
ALL = [name for name in scenario_names() if name not in ISSUE_16_PENDING]
RUNNABLE_NOW = {
    "pocketos",
    "replit-freeze",
    "amazon-q-wiper",
    "gemini-mkdir-move",
    "home-rm-rf",
    "claude-code-terraform",
    *(ISSUE_16 - ISSUE_16_PENDING),
}
DESTRUCTIVE = [name for name in ALL if name not in BENIGN]


@pytest.fixture(scope="module")
def replays(tmp_path_factory):
    results = {}
    for name in ALL:
        with Store.open(tmp_path_factory.mktemp(name) / "s.duckdb") as store:
            results[name] = replay(name, store)
    return results


def test_every_incident_of_the_issue_has_a_scenario():
    assert set(ALL) == RUNNABLE_NOW
    assert set(scenario_names()) == RUNNABLE_NOW | ISSUE_16


@pytest.mark.parametrize("name", sorted(ISSUE_16_PENDING))
def test_pending_issue16_replays_are_read_whole(tmp_path, name):
    with Store.open(tmp_path / "s.duckdb") as store:
        result = replay(name, store)
        assert result.unreadable == {}
        assert store.count("quarantine") == 0
        assert store.count("events") >= 10
        if result.problems:
            pytest.xfail("; ".join(result.problems)[:2000])
        pytest.fail("meets every key now: move it out of ISSUE_16_PENDING")


@pytest.mark.parametrize("name", sorted(ISSUE_16 - ISSUE_16_PENDING))
def test_issue16_replay_is_one_linked_incident(replays, name):
    """Its issue-16 keys hold (checked by replay.py with the README's alerting.yml): one
    incident, provider records linked to the agent call, critical by the first destructive
    call (`problems` lists any that does not)."""
    result = replays[name]
    assert result.problems == []
    assert result.incidents == result.spec["incidents"]


@pytest.mark.parametrize("name", DESTRUCTIVE)
def test_scenario_is_detected_with_its_expected_findings(replays, name):
    result = replays[name]
    assert result.problems == []
    assert result.met, "at least one expectation runs with today's collectors"


@pytest.mark.parametrize("name", DESTRUCTIVE)
def test_first_critical_is_at_or_before_the_first_destructive_event(replays, name):
    result = replays[name]
    assert result.first_destructive is not None
    expects_critical = any(
        e["severity"] == "critical" and not set(e.get("needs", [])) & set(result.unreadable)
        for e in result.spec["expect"]
    )
    if not expects_critical:  # then the first finding of any severity must be in time
        first = min(f["first_seen"] for f in result.findings)
        assert first <= result.first_destructive
        return
    assert result.first_critical is not None
    assert result.first_critical <= result.first_destructive


@pytest.mark.parametrize("name", sorted(BENIGN - ISSUE_16_PENDING))
def test_benign_replay_raises_nothing_high_or_critical(replays, name):
    result = replays[name]
    assert result.problems == []
    assert [f for f in result.findings if f["severity"] in ("high", "critical")] == []
    assert result.incidents == 0


@pytest.mark.parametrize("name", ALL)
def test_parts_that_need_missing_collectors(replays, name):
    result = replays[name]
    if result.skipped:
        pytest.skip("; ".join(result.skipped))
    assert result.unreadable == {}
