"""What a one-shot `agentaudit detect` finds on the PocketOS replay: the reference the watch
tests compare the real-time findings with (every detector, the Sigma pack included)."""

from __future__ import annotations

from collections import Counter
from functools import cache

from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store


@cache
def one_shot_rules() -> Counter:
    """rule id -> findings of that rule (environment-scope fires twice, on the refused CLI
    delete and on the curl; the Sigma pack's per-call rules likewise)."""
    with Store.open(":memory:") as store:
        ingest_paths(store, scenario_files("pocketos"))
        return Counter(f["rule_id"] for f in run_detection(store).findings)


def critical_paged(receiver) -> bool:
    """The incident's critical page arrived (a condition to wait for before stopping watch:
    findings are counted before they are paged, so a high page's escalation can follow the
    last count by a pass)."""
    return any(r["body"]["title"].startswith("[CRITICAL]") for r in receiver.received)


def pages_of_one_incident(receiver) -> list[str]:
    """The titles the incident paged: one critical page, or a high page followed at once by
    its escalation to critical (the Sigma pack may page the refused CLI delete before the
    behaviours make it critical). Never a high page alone."""
    titles = [r["body"]["title"] for r in receiver.received]
    assert len(titles) in (1, 2) and titles[-1].startswith("[CRITICAL] railway"), titles
    assert len(titles) == 1 or titles[0].startswith("[HIGH] railway"), titles
    return titles
