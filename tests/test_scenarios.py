"""Every built-in incident replay is detected with its expected findings, early enough.

The parts of a scenario that need a collector not registered yet (Claude Code transcripts,
CloudTrail, Gemini CLI sessions, PowerShell history) are reported by a separate test that
skips naming the missing collector; everything the registered collectors read must hold now.
"""

from __future__ import annotations

import pytest

from agentaudit.scenarios.replay import replay, scenario_names
from agentaudit.store import Store

# Replays written for issue 16 (incidents, links, severity that respects the task): their
# incident, link and benign expectations are that issue's work; until it lands they are only
# checked to be read whole by their collectors (test_issue16_replays_are_read_whole).
ISSUE_16 = {
    "codex-terraform-destroy",
    "gemini-cloudsql-drop",
    "openhands-eks-delete",
    "cursor-github-protection",
    "claude-hooks-azure-rg-delete",
    "benign-busy-claude",
    "benign-busy-codex",
}
ALL = [name for name in scenario_names() if name not in ISSUE_16]
RUNNABLE_NOW = {
    "pocketos",
    "replit-freeze",
    "amazon-q-wiper",
    "gemini-mkdir-move",
    "home-rm-rf",
    "claude-code-terraform",
}


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


@pytest.mark.parametrize("name", sorted(ISSUE_16))
def test_issue16_replays_are_read_whole(tmp_path, name):
    with Store.open(tmp_path / "s.duckdb") as store:
        result = replay(name, store)
        assert result.unreadable == {}
        assert store.count("quarantine") == 0
        assert store.count("events") >= 10


@pytest.mark.parametrize("name", ALL)
def test_scenario_is_detected_with_its_expected_findings(replays, name):
    result = replays[name]
    assert result.problems == []
    assert result.met, "at least one expectation runs with today's collectors"


@pytest.mark.parametrize("name", ALL)
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


@pytest.mark.parametrize("name", ALL)
def test_parts_that_need_missing_collectors(replays, name):
    result = replays[name]
    if result.skipped:
        pytest.skip("; ".join(result.skipped))
    assert result.unreadable == {}
