from agentaudit.detect.behaviours.safety_bypass import SafetyBypass
from agentaudit.testing import event, findings_of

findings = findings_of(SafetyBypass)


def test_bypass_alone_is_high():
    result = findings(
        [event(0, session_id="s1", command="claude --dangerously-skip-permissions -p 'fix tests'")]
    )
    assert [f["severity"] for f in result] == ["high"]


def test_bypass_then_destructive_is_critical_stamped_at_the_bypass():
    result = findings(
        [
            event(
                0, session_id="s1", command='q chat --trust-all-tools --no-interactive "clean up"'
            ),
            event(
                20,
                session_id="s1",
                command="aws --profile p ec2 terminate-instances --instance-ids i-1",
            ),
        ]
    )
    assert len(result) == 1 and result[0]["severity"] == "critical"
    assert str(result[0]["first_seen"]).startswith("2026-04-24 19:00:00")
    assert "terminate-instances" in result[0]["title"]


def test_auto_approved_destroy_is_critical():
    result = findings([event(0, session_id="s1", command="terraform destroy -auto-approve")])
    assert result[0]["severity"] == "critical"


def test_ordinary_flags_are_silent():
    assert (
        findings(
            [
                event(0, session_id="s1", command="terraform plan -out tf.plan"),
                event(1, session_id="s1", command="npm install --yes"),
            ]
        )
        == []
    )


def test_routine_cleanup_after_a_bypass_stays_high():
    result = findings(
        [
            event(0, session_id="s1", command="claude --dangerously-skip-permissions"),
            event(20, session_id="s1", command="rm -rf build"),
        ]
    )
    assert [f["severity"] for f in result] == ["high"]
