import pytest

from agentaudit.detect.behaviours.audit_tamper import AuditTamper
from agentaudit.testing import event, findings_of

findings = findings_of(AuditTamper)


@pytest.mark.parametrize(
    "command",
    [
        "history -c",
        "unset HISTFILE",
        "rm -f ~/.zsh_history",
        "rm -rf ~/.claude/projects",
        "rm ~/.local/share/agentaudit/fingerprint.key",
        "export HISTFILE=/dev/null",
    ],
)
def test_tampering_commands_are_critical(command):
    result = findings([event(0, session_id="s1", command=command)])
    assert len(result) == 1 and result[0]["severity"] == "critical"


def test_provider_audit_trail_stopped():
    result = findings(
        [
            event(
                0,
                source="aws.cloudtrail",
                kind="api",
                operation="StopLogging",
                categories=["audit_tamper"],
                destructive=True,
            )
        ]
    )
    assert "provider audit trail" in result[0]["title"]


def test_reading_history_is_silent():
    assert (
        findings(
            [
                event(0, session_id="s1", command=c)
                for c in ("history | tail", "cat ~/.zsh_history | grep git", "ls ~/.claude")
            ]
        )
        == []
    )
