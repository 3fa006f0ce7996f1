from agentaudit.detect.sql.destructive_burst import DestructiveBurst
from agentaudit.testing import event, findings_of

findings = findings_of(DestructiveBurst)


def test_two_destructive_calls_close_together_fire_once():
    result = findings(
        [
            event(0, session_id="s1", command="rm -rf src", tool_call_id="a"),
            event(0.5, session_id="s1", command="rm -rf src", tool_call_id="a"),  # after-hook
            event(8, session_id="s1", command="git reset --hard HEAD~3", tool_call_id="b"),
        ]
    )
    assert len(result) == 1
    assert result[0]["severity"] == "high"
    assert "2 destructive calls" in result[0]["title"]


def test_regenerable_in_project_deletions_are_not_a_burst():
    # the command analysis rates these low: a build or `npm install` brings them back
    cleanups = ["rm -rf node_modules", "rm -rf build", "rm -rf dist"]
    events = [
        event(i, session_id="s1", command=c, tool_call_id=f"c{i}") for i, c in enumerate(cleanups)
    ]
    assert all(e["severity"] == "low" and e["destructive"] for e in events)
    assert findings(events) == []
    lost = [*events, event(5, session_id="s1", command="rm -rf src", tool_call_id="x")]
    assert findings(lost) == []  # one call that loses work is not a burst either
    lost.append(event(9, session_id="s1", command="git reset --hard HEAD~3", tool_call_id="y"))
    [burst] = findings(lost)
    assert "2 destructive calls" in burst["title"]


def test_one_call_seen_twice_is_not_a_burst():
    assert (
        findings(
            [
                event(0, session_id="s1", command="rm -rf dist", tool_call_id="a"),
                event(1, session_id="s1", command="rm -rf dist", tool_call_id="a"),
            ]
        )
        == []
    )


def test_calls_far_apart_or_in_other_sessions_are_not_a_burst():
    assert (
        findings(
            [
                event(0, session_id="s1", command="rm -rf a", tool_call_id="a"),
                event(600, session_id="s1", command="rm -rf b", tool_call_id="b"),
                event(1, session_id="s2", command="rm -rf c", tool_call_id="c"),
                event(2, session_id="s1", command="ls -la", tool_call_id="d"),
            ]
        )
        == []
    )


def test_threshold_is_configurable():
    events = [
        event(i, session_id="s1", command=f"rm -rf d{i}", tool_call_id=f"c{i}") for i in range(3)
    ]
    assert len(findings(events, min_calls=3)) == 1
    assert findings(events, min_calls=4) == []


def test_provider_records_without_a_session_burst_per_principal():
    deletes = [
        event(
            i * 5,
            source="aws.cloudtrail",
            kind="api",
            operation=f"Delete{i}",
            destructive=True,
            categories=["cloud_delete"],
            actor="arn:aws:iam::1:user/tf",
        )
        for i in range(3)
    ]
    other = event(
        6,
        source="aws.cloudtrail",
        kind="api",
        operation="DeleteX",
        destructive=True,
        categories=["cloud_delete"],
        actor="arn:aws:iam::1:user/alice",
    )
    result = findings([*deletes, other])
    assert len(result) == 1
    assert result[0]["session_id"].startswith("principal:")  # the principal's burst
    assert result[0]["title"] == "3 destructive calls within 10.0 s by arn:aws:iam::1:user/tf"


def test_thresholds_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_BURST_MIN_CALLS", "3")
    events = [
        event(i, session_id="s1", command=f"rm -rf d{i}", tool_call_id=f"c{i}") for i in range(2)
    ]
    assert findings(events) == []
    monkeypatch.setenv("AGENTAUDIT_BURST_MIN_CALLS", "2")
    assert len(findings(events)) == 1
