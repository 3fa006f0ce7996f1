"""Real transcripts and histories are ordinary work: no critical finding on any of them.

Every agent transcript and shell history in the corpus that a registered collector reads is
ingested into its own store and run through every detector. Files SOURCES.md marks as generated
for this project (they carry a planted Railway `volumeDelete` curl) may be critical only on that
planted call. Provider audit samples (CloudTrail, GCP, Azure, k8s, GitHub) are
not ordinary work: they are attack simulations and labeled destructive test cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.store import Store

pytestmark = pytest.mark.slow  # every corpus file ingested and detected


def _planted(corpus: Path) -> set[str]:
    sources = (corpus / "SOURCES.md").read_text(encoding="utf-8")
    return {
        line.split("|")[0].strip()
        for line in sources.splitlines()
        # generated for this project ("our own"), some with a planted Railway volumeDelete
        if "|" in line and ("volumeDelete" in line.split("|")[-1] or "(our own)" in line)
    }


TRANSCRIPTS_AND_HISTORIES = (
    "claude-code",
    "codex",
    "gemini",
    "openhands",
    "cursor",
    "aider",
    "zsh",
    "bash",
    "fish",
    "powershell",
    "atuin",
)


def _readable_results(corpus: Path, tmp: Path) -> dict[str, list[dict]]:
    results = {}
    files = sorted(
        p
        for d in TRANSCRIPTS_AND_HISTORIES
        if (corpus / d).is_dir()
        for p in (corpus / d).rglob("*")
        if p.is_file()
    )
    for i, path in enumerate(files):
        with Store.open(tmp / f"{i}.duckdb") as store:
            report = ingest_paths(store, [path])
            if report.files[0].source is None or report.ingested == 0:
                continue
            run_detection(store)
            results[str(path.relative_to(corpus))] = store.rows(
                """SELECT f.rule_id, f.severity, list(e.command) AS commands
                   FROM findings f, unnest(f.event_ids) AS u(id) JOIN events e ON e.event_id = u.id
                   GROUP BY ALL"""
            )
    return results


@pytest.fixture(scope="module")
def corpus_findings(corpus, tmp_path_factory):
    return _readable_results(corpus, tmp_path_factory.mktemp("corpus"))


def test_some_corpus_files_are_readable_today(corpus_findings):
    assert any(name.startswith("zsh/") for name in corpus_findings)


def test_no_critical_finding_on_real_work(corpus, corpus_findings):
    planted = _planted(corpus)
    for name, findings in corpus_findings.items():
        for finding in findings:
            if finding["severity"] != "critical":
                continue
            assert name in planted, (name, finding)
            assert all("volumeDelete" in (c or "") for c in finding["commands"]), (name, finding)
