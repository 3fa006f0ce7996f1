"""SigmaHQ's log sources on the store: field names mapped to columns or record paths, each rule
scoped to its log source's events, and a user's rule directory loading such rules."""

from __future__ import annotations

import json
from pathlib import Path

from agentaudit.detect.driver import run_detection
from agentaudit.detect.sigma.detector import RULE_DIRS_ENV, SigmaRules
from agentaudit.detect.sigma.loader import load_rules
from agentaudit.detect.sigma.run import run_rules
from agentaudit.testing import event, store_with


def _trail(seconds: float, **record) -> dict:
    record = {"eventSource": "cloudtrail.amazonaws.com", "eventID": f"e{seconds}", **record}
    return event(
        seconds,
        source="aws.cloudtrail",
        kind="api",
        operation=record.get("eventName"),  # as the CloudTrail collector fills them
        tool_name=record["eventSource"],
        raw=json.dumps(record),
    )


EVENTS = [
    _trail(
        0, eventName="StopLogging", userIdentity={"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"}
    ),
    _trail(1, eventName="DeleteTrail", errorCode="TrailNotFoundException"),
    _trail(2, eventName="StopLogging", eventSource="other.amazonaws.com"),
    # the same name in another provider's record: an AWS rule never reads it
    event(
        3,
        source="github.audit",
        kind="api",
        raw=json.dumps({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}),
    ),
    event(4, source="shell.zsh", command="sudo /usr/bin/rm -rf /srv/data"),
    event(5, source="shell.zsh", command="echo rm"),
]


def _rule(tmp_path: Path, logsource: str, detection: str, name: str = "r") -> Path:
    (tmp_path / f"{name}.yml").write_text(
        f"title: {name}\nid: 00000000-0000-4000-8000-00000000000{len(list(tmp_path.glob('*.yml')))}\n"
        f"author: someone\nlogsource: {logsource}\ndetection:\n{detection}level: high\n"
    )
    return tmp_path


def _matched(tmp_path: Path) -> set[int]:
    """Positions in EVENTS of the events the directory's rules matched."""
    ruleset = load_rules([tmp_path])
    assert ruleset.errors == []
    findings, errors = run_rules(store_with(EVENTS), ruleset)
    assert errors == []
    ids = {e for f in findings for e in f["event_ids"]}
    return {i for i, e in enumerate(EVENTS) if e["event_id"] in ids}


def test_cloudtrail_rule_reads_its_fields_and_only_aws_records(tmp_path):
    _rule(
        tmp_path,
        "{product: aws, service: cloudtrail}",
        "  sel:\n    eventSource: cloudtrail.amazonaws.com\n"
        "    eventName: [StopLogging, DeleteTrail]\n  condition: sel\n",
    )
    assert _matched(tmp_path) == {0, 1}


def test_null_nested_and_contains_on_record_paths(tmp_path):
    _rule(
        tmp_path,
        "{product: aws, service: cloudtrail}",
        "  sel:\n    errorCode: null\n    userIdentity.arn|contains: ':user/'\n  condition: sel\n",
    )
    assert _matched(tmp_path) == {0}


def test_process_creation_image_is_each_programs_basename(tmp_path):
    _rule(
        tmp_path,
        "{product: linux, category: process_creation}",
        "  sel:\n    Image|endswith: /rm\n    CommandLine|contains: ' -rf '\n  condition: sel\n",
    )
    assert _matched(tmp_path) == {4}  # through sudo; `echo rm` runs echo


def test_powershell_script_blocks_are_its_commands(tmp_path):
    _rule(
        tmp_path,
        "{product: windows, category: ps_script}",
        "  sel:\n    ScriptBlockText|contains|all: [Remove-Item, -Recurse]\n  condition: sel\n",
    )
    events = [
        event(
            0, source="shell.powershell", tool_name="pwsh", command="Remove-Item -Recurse C:\\data"
        ),
        event(1, source="shell.zsh", command="echo Remove-Item -Recurse"),  # not PowerShell
    ]
    findings, errors = run_rules(store_with(events), load_rules([tmp_path]))
    assert errors == [] and [f["event_ids"] for f in findings] == [[events[0]["event_id"]]]


def test_keywords_of_a_provider_rule_search_its_record(tmp_path):
    _rule(
        tmp_path,
        "{product: aws, service: cloudtrail}",
        "  keywords: [TrailNotFound]\n  condition: keywords\n",
    )
    assert _matched(tmp_path) == {1}


def test_a_logsource_no_event_carries_is_named(tmp_path):
    _rule(
        tmp_path,
        "{product: windows, category: registry_set}",
        "  sel: {TargetObject: x}\n  condition: sel\n",
    )
    ruleset = load_rules([tmp_path])
    assert ruleset.rules == [] and "windows/registry_set" in ruleset.errors[0].problem
    assert "aws/cloudtrail" in ruleset.errors[0].problem  # what is supported


def test_a_users_rule_directory_runs_sigmahq_rules_in_detection(tmp_path, monkeypatch):
    _rule(
        tmp_path,
        "{product: aws, service: cloudtrail}",
        "  sel:\n    eventName: StopLogging\n    eventSource: cloudtrail.amazonaws.com\n  condition: sel\n",
        name="stop_logging",
    )
    monkeypatch.setenv(RULE_DIRS_ENV, str(tmp_path))
    findings = run_detection(store_with(EVENTS), [SigmaRules()]).findings
    mine = [f for f in findings if f["rule_id"] == "sigma:00000000-0000-4000-8000-000000000000"]
    assert len(mine) == 1 and json.loads(mine[0]["evidence"])["author"] == "someone"
