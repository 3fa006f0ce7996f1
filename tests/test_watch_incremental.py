"""Windowed detection in-process (what `watch` runs): however the writes fall into passes,
the one driver records what a one-shot `detect` of the final files records, each once."""

from __future__ import annotations

from collections import Counter

import pytest

from agentaudit.detect.driver import builtin_detectors, run_detection
from agentaudit.detect.window import Window
from agentaudit.ingest import ingest_paths
from agentaudit.realtime.watch.replay import pocketos_records, write_record
from agentaudit.store import Store, now


def keys(findings) -> Counter:
    return Counter((f["rule_id"], f["session_id"], f["severity"], f["title"]) for f in findings)


def one_shot(tmp_path, logs) -> list[dict]:
    with Store.open(tmp_path / "oneshot.duckdb") as store:
        ingest_paths(store, [logs])
        run_detection(store)
        return store.rows("SELECT rule_id, session_id, severity, title FROM findings")


@pytest.mark.slow  # detection per slice of the replay
@pytest.mark.parametrize("chunk", [2, 5, 13])
def test_passes_of_any_size_record_each_finding_once(tmp_path, chunk):
    """The service's loop, pass by pass: ingest a chunk, detect over it and its window; a
    sessionless line waits for its agent call (settling) and comes back in the next passes
    until it is linked. The pass that sees the refused CLI delete before its refusal arrives,
    and later passes that see more of the same session, must not add a second finding."""
    logs = tmp_path / "logs"
    logs.mkdir()
    records = pocketos_records()
    recorded: list[dict] = []
    updated: set[str] = set()
    held = None  # sessionless lines a pass held back to settle
    with Store.open(tmp_path / "watch.duckdb") as store:
        for start in range(0, len(records), chunk):
            for record in records[start : start + chunk]:
                write_record(logs, record)
            began = now()
            ingest_paths(store, [logs], record_run=False)
            window = Window(began, held_since=held, seconds=600, settle_seconds=60)
            result = run_detection(store, window=window)
            recorded += result.new
            updated |= set(result.updated)
            held = result.unsettled_since
        # the last lines have settled (the service's timer): detected on their own if unlinked
        result = run_detection(store, window=Window(None, held_since=held, settle_seconds=0))
        recorded += result.new
        stored = store.rows("SELECT rule_id, session_id, severity, title, event_ids FROM findings")
    assert len({f["finding_id"] for f in recorded}) == len(recorded) == len(stored)
    assert keys(stored) == keys(one_shot(tmp_path, logs))
    # every finding names at least the events one-shot detection names
    assert all(f["event_ids"] for f in stored)
    if chunk == 2:
        # small passes see a finding grow: its later evidence was merged into it, not added
        assert updated


def test_a_page_comes_before_the_sigma_pack_and_the_findings_are_one_shots(tmp_path):
    """The service's page-first order: the built-in detectors' high or critical findings are
    recorded and handed over (paged) before the Sigma pack runs, whose findings are recorded
    right after. However the passes fall, the findings are one-shot detection's, each once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    records = pocketos_records()
    detectors = builtin_detectors()
    paged: list[list[str]] = []
    recorded: list[dict] = []
    held = None
    with Store.open(tmp_path / "watch.duckdb") as store:

        def page(new: list[dict]) -> None:
            # the page reads the store's own tables: the findings are there already
            ids = [f["finding_id"] for f in new]
            stored = store.rows(
                "SELECT rule_id FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
                [ids],
            )
            assert len(stored) == len(ids)
            paged.append([f["rule_id"] for f in new])

        for start in range(0, len(records), 3):
            for record in records[start : start + 3]:
                write_record(logs, record)
            began = now()
            ingest_paths(store, [logs], record_run=False)
            window = Window(began, held_since=held, seconds=600, settle_seconds=60)
            result = run_detection(store, detectors, window=window, on_urgent=page)
            recorded += result.new
            held = result.unsettled_since
        result = run_detection(store, detectors, window=Window(None, held, settle_seconds=0))
        recorded += result.new
        stored = store.rows("SELECT rule_id, session_id, severity, title FROM findings")
    assert paged
    # the first page names the built-in detectors' findings only: the Sigma pack came after
    assert paged[0] and not any(r.startswith("sigma:") for r in paged[0])
    assert len({f["finding_id"] for f in recorded}) == len(recorded) == len(stored)
    assert keys(stored) == keys(one_shot(tmp_path, logs))
    assert any(f["rule_id"].startswith("sigma:") for f in stored)
