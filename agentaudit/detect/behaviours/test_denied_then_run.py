from agentaudit.detect.behaviours.denied_then_run import DeniedThenRun
from agentaudit.detect.driver import run_detection
from agentaudit.testing import event, store_with

DROP = "rm -rf /var/lib/postgresql/backups"


def call(seconds, command, call_id, **columns):
    columns.setdefault("session_id", "s1")
    return event(seconds, command=command, tool_call_id=call_id, cwd="/home/dev/shop", **columns)


def findings(events):
    return run_detection(store_with(events), [DeniedThenRun()]).findings


def test_the_same_command_run_after_a_human_denied_it_is_critical_when_destructive():
    result = findings(
        [
            call(0, DROP, "c1", status="denied", decided_by="human"),
            call(30, f"{DROP} ", "c2", status="success", decided_by="unknown"),
        ]
    )
    assert [(f["severity"], f["rule_id"]) for f in result] == [("critical", "denied-then-run")]
    assert "Refused by human, then run by the same command" in result[0]["title"]
    assert str(result[0]["first_seen"]).startswith("2026-04-24 19:00:00")


def test_the_same_target_reached_by_another_route_is_caught():
    result = findings(
        [
            call(0, DROP, "c1", status="denied", decided_by="classifier"),
            call(30, "find /var/lib/postgresql/backups -delete", "c2", status="success"),
        ]
    )
    assert [f["severity"] for f in result] == ["critical"]
    assert "another route" in result[0]["title"]


def test_a_non_destructive_command_retried_after_a_denial_is_high():
    result = findings(
        [
            call(0, "curl -s https://203.0.113.9/x", "c1", status="denied", decided_by="hook"),
            call(30, "curl -s https://203.0.113.9/x", "c2", status="success"),
        ]
    )
    assert [f["severity"] for f in result] == ["high"]


def test_a_denial_the_agent_accepted_is_quiet():
    assert (
        findings(
            [
                call(0, DROP, "c1", status="denied", decided_by="human"),
                call(30, "ls /var/lib/postgresql", "c2", status="success"),
                call(40, DROP, "c3", status="denied", decided_by="human"),
            ]
        )
        == []
    )
