"""A protection removed after it refused a destructive call: critical at the removal."""

from __future__ import annotations

from agentaudit.detect.behaviours.guard_removed import GuardRemoved
from agentaudit.testing import event, store_with


def _run(events):
    return GuardRemoved().run(store_with(events))


def test_lock_removed_after_a_refused_group_delete_is_critical_at_the_removal():
    refused = event(
        0, session_id="s", command="az group delete --name rg-x --yes", destructive=True,
        status="failure",
    )  # fmt: skip
    unlock = event(12, session_id="s", command="az lock delete --name keep --resource-group rg-x")
    retry = event(20, session_id="s", command="az group delete --name rg-x --yes", destructive=True)
    [found] = _run([refused, unlock, retry])
    assert found["severity"] == "critical"
    assert found["first_seen"] == unlock["time"]
    assert set(found["event_ids"]) == {refused["event_id"], unlock["event_id"]}


def test_branch_protection_removed_after_a_rejected_push():
    rejected = event(
        0, session_id="s", command="git push --force origin fix:main", destructive=True,
        status="failure",
    )  # fmt: skip
    unprotect = event(
        9, session_id="s", command="gh api -X DELETE repos/o/r/branches/main/protection"
    )
    assert len(_run([rejected, unprotect])) == 1


def test_no_refusal_or_a_removal_before_it_is_not_a_finding():
    unlock = event(0, session_id="s", command="az lock delete --name keep -g rg-x")
    delete = event(5, session_id="s", command="az group delete -n rg-x", destructive=True)
    assert _run([unlock, delete]) == []
    refused_later = event(
        9, session_id="s", command="az group delete -n rg-y", destructive=True, status="failure"
    )
    assert _run([unlock, refused_later]) == []
