from agentaudit.detect.behaviours.instruction_conflict import InstructionConflict
from agentaudit.testing import event, findings_of

findings = findings_of(InstructionConflict)


def said(seconds, text):
    return event(seconds, session_id="s1", kind="message", operation="user_prompt", text=text)


def test_schema_push_during_a_code_freeze_is_critical():
    result = findings(
        [
            said(0, "CODE FREEZE. DO NOT CHANGE ANYTHING."),
            event(30, session_id="s1", command="npm run db:push", tool_call_id="c1"),
        ]
    )
    assert len(result) == 1 and result[0]["severity"] == "critical"
    assert "CODE FREEZE" in result[0]["title"]


def test_production_delete_after_do_not_touch_production():
    result = findings(
        [
            said(0, "don't touch prod, only staging"),
            event(30, session_id="s1", command="rm -rf build"),  # not production: allowed
            event(40, session_id="s1", command="kubectl delete deployment api -n prod"),
        ]
    )
    assert len(result) == 1 and "kubectl delete" in result[0]["title"]


def test_any_delete_after_do_not_delete():
    result = findings(
        [
            said(0, "Clean up the logs, but do not delete anything in data/"),
            event(30, session_id="s1", command="rm -rf data/"),
        ]
    )
    assert len(result) == 1


def test_prompts_that_only_sound_alike_are_silent():
    for prompt, command in [
        ("make the config field read-only", "rm -rf build"),
        ("freeze the dependency versions", "rm -rf node_modules"),
    ]:
        assert findings([said(0, prompt), event(30, session_id="s1", command=command)]) == []


def test_ordinary_prompts_or_reads_after_a_freeze_are_silent():
    assert (
        findings([said(0, "please refactor"), event(30, session_id="s1", command="rm -rf build")])
        == []
    )
    assert (
        findings([said(0, "code freeze today"), event(30, session_id="s1", command="git status")])
        == []
    )
    assert (
        findings([event(0, session_id="s1", command="rm -rf build"), said(30, "freeze now")]) == []
    )
