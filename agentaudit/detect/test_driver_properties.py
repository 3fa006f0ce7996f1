"""Property: the driver never raises, whatever mix of events it is given (issue 16).

Arbitrary mixes of timed and untimed, duplicated and out-of-order events from an agent's hooks,
its untimed transcript, two shell histories and a provider's audit log go through every
built-in detector, the alert engine and the findings table. No exception may escape, and no
built-in detector may fail on them (a failure would be contained, but it is still a bug).
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from agentaudit.alert.config import from_urls
from agentaudit.analyst.render import findings_table
from agentaudit.pipeline import detect_and_alert
from agentaudit.testing import event, store_with

COMMANDS = [
    "ls -la",
    "rm -rf node_modules",
    "rm -rf /srv/data",
    "terraform destroy -auto-approve",
    "kubectl delete namespace prod --context prod-eu",
    "helm uninstall api --kube-context prod",
    "aws s3 rb s3://acme-backups --force --profile prod",
    "cat ~/.aws/credentials",
    "git push --force origin main",
    "psql -c 'DROP DATABASE orders'",
]
PROVIDER_OPERATIONS = [
    ("DeleteBucket", "s3://acme-backups", True),
    ("DeleteDBInstance", "arn:aws:rds:eu-west-1:1:db:orders", True),
    ("GetCallerIdentity", None, False),
    ("DeleteParameter", "/prod/db/password", True),
]
SOURCES = ("hooks", "transcript", "bash-a", "bash-b", "cloudtrail")


@st.composite
def one_event(draw) -> dict:
    source = draw(st.sampled_from(SOURCES))
    seconds = draw(st.floats(min_value=-600, max_value=3600, allow_nan=False))
    timed = source != "transcript" and draw(st.booleans())
    if source == "cloudtrail":
        operation, target, destructive = draw(st.sampled_from(PROVIDER_OPERATIONS))
        ev = event(
            seconds,
            "cloudtrail",
            kind="api",
            operation=operation,
            target=target,
            destructive=destructive,
            actor=draw(st.sampled_from(["arn:aws:iam::1:user/ci", None])),
            credential_fp=draw(st.sampled_from(["fp-a", "fp-b", None])),
        )
    else:
        command = draw(st.sampled_from(COMMANDS))
        columns = {"command": command, "tool_name": "Shell"}
        if source in ("hooks", "transcript"):
            columns["session_id"] = draw(st.sampled_from(["s1", "s2"]))
            columns["tool_call_id"] = draw(st.sampled_from(["c1", "c2", None]))
            name = "cursor.hooks" if source == "hooks" else "cursor.transcript"
        else:
            name = "shell.bash"
        ev = event(seconds, name, **columns)
        if name == "shell.bash":
            ev["source_path"] = f"/home/u/.{source}_history"
    if not timed:
        ev.update(time=None, time_precision="none")
    ev["seq"] = draw(st.integers(min_value=0, max_value=50))  # out of order, repeated
    return ev


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(events=st.lists(one_event(), min_size=1, max_size=25), repeat=st.integers(0, 3))
def test_the_driver_never_raises(events, repeat):
    events = events + events[:repeat]  # exact duplicates (the store keeps one)
    store = store_with(events)
    try:
        report, _, _ = detect_and_alert(store, [], config=from_urls([]), deliver=False)
        Console(file=io.StringIO()).print(findings_table(report.findings))
        assert [f for f in report.failures if f.kind == "error"] == []
        for finding in store.rows("SELECT first_seen, last_seen, evidence FROM findings"):
            if finding["first_seen"] is None:  # untimed: a NULL range that says so
                assert finding["last_seen"] is None
                assert "untimed" in json.loads(finding["evidence"])
        # a second run over the same events restates, never raises
        detect_and_alert(store, [], config=from_urls([]), deliver=False)
    finally:
        store.close()
