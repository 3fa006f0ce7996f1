"""Sessions and links: shell sessions from gaps, provider records to the session that caused them."""

from __future__ import annotations

from agentaudit.detect.link import SHELL_GAP_SECONDS, link_events
from agentaudit.testing import event, store_with

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def session_of(store, event_id):
    rows = store.rows(
        "SELECT session_key, reason FROM event_sessions JOIN links USING (event_id) "
        "WHERE event_id = ?",
        [event_id],
    )
    return rows


def test_shell_lines_split_into_sessions_on_time_gaps():
    lines = [
        event(0, source="shell.zsh", command="git status"),
        event(60, source="shell.zsh", command="npm test"),
        event(
            60 + SHELL_GAP_SECONDS + 1,
            source="shell.zsh",
            command="ls",
        ),
    ]
    for i, line in enumerate(lines):
        line["seq"] = i
    store = store_with(lines)
    link_events(store)
    keys = [
        r["session_key"] for r in store.rows("SELECT session_key FROM event_sessions ORDER BY seq")
    ]
    assert keys[0] == keys[1] != keys[2]
    assert all(k.startswith("shell:") for k in keys)
    assert link_events(store) == 0  # idempotent


def test_agent_run_shell_line_joins_the_agent_session_not_a_shell_session():
    agent = event(0, session_id="agent-1", command="rm -rf build", tool_call_id="c1")
    shell = event(1, source="shell.zsh", command="rm -rf build")
    store = store_with([agent, shell])
    link_events(store)
    row = store.rows(
        "SELECT session_key, call_key FROM event_sessions WHERE event_id = ?", [shell["event_id"]]
    )[0]
    assert row == {"session_key": "agent-1", "call_key": "c1"}


def test_provider_record_joins_the_session_that_used_its_credential():
    use = event(
        0,
        session_id="agent-1",
        command=f"curl -H 'Authorization: Bearer {TOKEN}' https://api.github.com/repos/o/r -X DELETE",
    )
    provider = event(
        3,
        source="github.audit",
        kind="api",
        operation="repo.destroy",
        credential_fp=use["credential_fp"],
        actor="dev",
    )
    assert use["credential_fp"]
    store = store_with([use, provider])
    link_events(store)
    rows = session_of(store, provider["event_id"])
    assert rows == [{"session_key": "agent-1", "reason": "same credential"}]


def test_provider_record_joins_the_session_named_by_its_user_agent_app_id():
    started = event(0, session_id="agent-7", command="AWS_SDK_UA_APP_ID=aa-agent-7x aws s3 ls")
    provider = event(
        30,
        source="aws.cloudtrail",
        kind="api",
        operation="DeleteBucket",
        user_agent="aws-cli/2.15.0 md/arch#x86_64 app/aa-agent-7x",
    )
    other = event(
        31,
        source="aws.cloudtrail",
        kind="api",
        operation="DeleteBucket",
        user_agent="aws-cli/2.15.0 app/someone-else",
    )
    store = store_with([started, provider, other])
    link_events(store)
    assert session_of(store, provider["event_id"]) == [
        {"session_key": "agent-7", "reason": "user agent app id"}
    ]
    assert session_of(store, other["event_id"]) == []


def test_the_shell_line_that_launched_an_agent_belongs_to_its_session():
    launch = event(0, source="shell.zsh", command="claude --dangerously-skip-permissions")
    later = event(400, source="shell.zsh", command="ls")
    first = event(
        3,
        source="claude-code.transcript",
        session_id="cc-1",
        kind="message",
        operation="user_prompt",
        text="fix the tests",
    )
    unrelated = event(5000, source="shell.zsh", command="codex")
    store = store_with([launch, later, first, unrelated])
    link_events(store)
    # (it is in its shell session's run too: the link to the agent wins)
    assert {"session_key": "cc-1", "reason": "agent launch"} in session_of(
        store, launch["event_id"]
    )
    keys = {
        r["event_id"]: r["session_key"]
        for r in store.rows("SELECT event_id, session_key FROM event_sessions")
    }
    assert keys[later["event_id"]].startswith("shell:")
    assert keys[unrelated["event_id"]].startswith("shell:")  # no agent session started after it


def test_each_family_of_links_runs_on_its_own():
    """`watch` skips the provider queries on a window without a provider record (and the
    shell ones without a shell line): each family adds exactly its own links."""
    agent = event(0, session_id="agent-1", command="rm -rf build", tool_call_id="c1")
    shell = event(1, source="shell.zsh", command="rm -rf build")
    use = event(
        2,
        session_id="agent-2",
        command=f"curl -H 'Authorization: Bearer {TOKEN}' https://api.github.com/repos/o/r -X DELETE",
    )
    provider = event(
        4, source="github.audit", kind="api", operation="repo.destroy",
        credential_fp=use["credential_fp"], actor="dev",
    )  # fmt: skip
    store = store_with([agent, shell, use, provider])
    assert link_events(store, provider=False) == 2  # its agent call, and its shell session
    assert {r["reason"] for r in session_of(store, shell["event_id"])} == {
        "same command",
        "shell session",
    }
    assert {r["session_key"] for r in session_of(store, shell["event_id"])} == {"agent-1"}
    assert session_of(store, provider["event_id"]) == []
    assert link_events(store, shell=False) == 1
    assert session_of(store, provider["event_id"]) == [
        {"session_key": "agent-2", "reason": "same credential"}
    ]
    assert link_events(store) == 0  # together they are what one full run adds
