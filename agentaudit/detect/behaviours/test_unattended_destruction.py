from agentaudit.detect.behaviours.unattended_destruction import UnattendedDestruction
from agentaudit.detect.driver import run_detection
from agentaudit.testing import event, store_with

PROD_DROP = "psql -h db.prod.internal -c 'DROP TABLE orders'"


def call(seconds, command, call_id, **columns):
    columns.setdefault("session_id", "s1")
    return event(seconds, command=command, tool_call_id=call_id, cwd="/home/dev/shop", **columns)


def severities(events):
    result = run_detection(store_with(events), [UnattendedDestruction()]).findings
    assert all(f["rule_id"] == "unattended-destruction" for f in result)
    return [f["severity"] for f in result]


def test_destruction_under_a_bypass_mode_is_high_and_critical_on_production():
    assert severities([call(0, "rm -rf /home/dev/other", "c1", decided_by="bypass")]) == ["high"]
    assert severities([call(0, PROD_DROP, "c1", decided_by="bypass", target_env="production")]) == [
        "critical"
    ]


def test_production_destruction_a_setting_or_classifier_let_through_is_high():
    assert severities(
        [call(0, PROD_DROP, "c1", decided_by="classifier", target_env="production")]
    ) == ["high"]


def test_a_human_approved_destructive_call_is_quiet():
    assert (
        severities(
            [
                call(
                    0,
                    PROD_DROP,
                    "c1",
                    decided_by="human",
                    status="unknown",
                    target_env="production",
                ),
                call(
                    5,
                    PROD_DROP,
                    "c1",
                    decided_by="bypass",
                    status="success",
                    target_env="production",
                ),
            ]
        )
        == []
    )


def test_unknown_deciders_refused_calls_and_harmless_bypassed_calls_are_quiet():
    assert (
        severities([call(0, PROD_DROP, "c1", decided_by="unknown", target_env="production")]) == []
    )
    assert severities([call(0, PROD_DROP, "c1", decided_by="bypass", status="denied")]) == []
    assert severities([call(0, "ls -la", "c1", decided_by="bypass")]) == []
