"""Credential flows and downloads across a session, read from real hook formats.

tests/data/credflow/ holds the same five sessions written as Claude Code, Codex and Cursor
hook logs and as Claude Code transcripts (generate.py): each is ingested into a DuckDB file and every detector runs on it.
The must-fire sessions raise their finding at the stated severity whatever the agent; the
benign sibling (a deploy with the project's own token in its own environment, a release
archive verified by checksum and not run) raises nothing high from any detector.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import ingest_paths
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank
from agentaudit.testing import TEST_KEY

DATA = Path(__file__).parent / "data" / "credflow"
OURS = ("credential-exfil", "credential-scope", "download-exec")
# session (by its order in generate.py) -> what our detectors must raise on it
EXPECTED = {
    "exfil-archive": [("credential-exfil", "critical")],
    "exfil-token": [("credential-exfil", "critical"), ("credential-exfil", "high")],
    "token-other-repo": [("credential-scope", "high")],
    "download-run": [("download-exec", "critical")],
    "benign-deploy": [],
}
SESSIONS = {f"{n + 1:08x}": name for n, name in enumerate(EXPECTED)}


# format -> (files, the collector that must read each)
FORMATS = {
    "claude-code": ([DATA / "claude-code-hooks.jsonl"], "claude-code.hooks"),
    "codex": ([DATA / "codex-hooks.jsonl"], "codex.hooks"),
    "cursor": ([DATA / "cursor-hooks.jsonl"], "cursor.hooks"),
    "claude-code-transcript": (
        sorted((DATA / "claude-code-transcripts").glob("*.jsonl")),
        "claude-code.transcript",
    ),
}


@pytest.fixture(scope="module", params=sorted(FORMATS))
def detected(request, tmp_path_factory):
    path = tmp_path_factory.mktemp(request.param) / "store.duckdb"
    files, source = FORMATS[request.param]
    with Store.open(path) as store:
        report = ingest_paths(store, files, redactor=Redactor(TEST_KEY))
        assert {(f.source, f.status) for f in report.files} == {(source, "read")}
        assert store.count("quarantine") == 0
        findings = run_detection(store).findings
    by_session: dict[str, list[dict]] = {name: [] for name in EXPECTED}
    for finding in findings:
        name = SESSIONS.get((finding["session_id"] or "").split(":")[-1][:8])
        if name:
            by_session[name].append(finding)
    return request.param, by_session


@pytest.mark.parametrize("session", sorted(EXPECTED))
def test_each_session_raises_its_findings_at_the_stated_severity(detected, session):
    agent, by_session = detected
    ours = sorted(
        (f["rule_id"], f["severity"]) for f in by_session[session] if f["rule_id"] in OURS
    )
    assert ours == sorted(EXPECTED[session]), agent


def test_the_benign_sibling_raises_nothing_high(detected):
    agent, by_session = detected
    loud = [(f["rule_id"], f["severity"]) for f in by_session["benign-deploy"]
            if severity_rank(f["severity"]) >= severity_rank("high")]  # fmt: skip
    assert loud == [], agent
