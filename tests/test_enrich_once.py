"""Enrich once: detection and linking read stored columns only.

During `detect` nothing parses a command with tree-sitter (the parses are counted), and the
`raw` column can be emptied without changing a link or a finding. The stores hold the demo's
scenario (PocketOS) and the two replays whose detectors used to re-parse commands
(delete-outside-project: home-rm-rf, move-overwrite: gemini-mkdir-move).
"""

from __future__ import annotations

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.enrich.commands import analysis, parse
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

SCENARIOS = ("pocketos", "home-rm-rf", "gemini-mkdir-move")


class CountingParser:
    """tree-sitter's parser, counting its parses."""

    def __init__(self, parser):
        self.parser, self.parses = parser, 0

    def parse(self, source: bytes):
        self.parses += 1
        return self.parser.parse(source)


def ingested(path, redactor) -> Store:
    store = Store.open(path)
    for name in SCENARIOS:
        ingest_paths(store, scenario_files(name), redactor=redactor)
    return store


def test_detect_parses_no_command(tmp_path, redactor, monkeypatch):
    with ingested(tmp_path / "s.duckdb", redactor) as store:
        counter = CountingParser(parse._parser())
        monkeypatch.setattr(parse, "_parser", lambda: counter)
        analysis.analyze_command.cache_clear()  # a cached analysis would hide a parse
        report = run_detection(store)
        rules = {f["rule_id"] for f in report.findings}
        assert {"delete-outside-project", "move-overwrite", "environment-scope"} <= rules
        assert counter.parses == 0
        analysis.analyze_command("rm -rf /srv/never-seen-before")  # the counter counts
        assert counter.parses == 1


def _results(store: Store) -> tuple[list, list]:
    findings = store.rows(
        "SELECT finding_id, rule_id, severity, title, list_sort(event_ids) AS ids, evidence "
        "FROM findings ORDER BY finding_id"
    )
    links = store.rows(
        "SELECT event_id, linked_event_id, session_id, reason FROM links ORDER BY link_id"
    )
    return findings, links


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_detection_and_linking_never_read_raw(tmp_path, redactor, scenario):
    stores = []
    for blank in (False, True):
        store = Store.open(tmp_path / f"{blank}.duckdb")
        ingest_paths(store, scenario_files(scenario), redactor=redactor)
        if blank:
            store.con.execute("UPDATE events SET raw = NULL")
        run_detection(store)
        stores.append(store)
    with_raw, without_raw = (_results(s) for s in stores)
    for store in stores:
        store.close()
    assert with_raw[0] and with_raw == without_raw
