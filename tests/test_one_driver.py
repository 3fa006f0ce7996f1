"""`detect` and `watch` share one driver: the same events, in any order that matters and any
number of batches, give the findings one one-shot `detect` of all of them gives (ids, event
counts, severities).

Orders: the scenario's sources one after the other, so that the provider's record comes
before or after the agent's call and the shell history before or after it, and the events
in time order. Paths: `watch`'s (a windowed run per batch; sessionless lines settle until
linked; a last run once they have settled) and one-shot `detect` run again after each batch.
A line judged before its best link arrived (one-shot: before its agent call; both: a
provider record linked to the refused CLI delete before the curl that did it arrived) makes
a finding that a later run supersedes: it is resolved and names the findings that took it
over, which are one-shot detection's. The open findings must be one-shot detection's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pytest

from agentaudit.detect.driver import builtin_detectors, run_detection
from agentaudit.detect.window import Window
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store, now
from agentaudit.testing import TEST_KEY

SCENARIOS = ("pocketos", "claude-code-terraform")
BATCHES = (1, 2, 5, 13)
AGENT = ("cursor.hooks", "claude-code.transcript")
SHELL = ("shell.zsh",)
PROVIDER = ("railway.audit", "aws.cloudtrail")
# Each of the four ways the provider's record and the shell line can fall around the agent's
# call, and the events as they happened.
ORDERS = {
    "provider, shell, agent": (PROVIDER, SHELL, AGENT),
    "provider, agent, shell": (PROVIDER, AGENT, SHELL),
    "shell, agent, provider": (SHELL, AGENT, PROVIDER),
    "agent, shell, provider": (AGENT, SHELL, PROVIDER),
    "time": None,
}


@pytest.fixture(scope="module")
def detectors():
    found = builtin_detectors()
    for detector in found:
        detector.prepare()
    return found


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory, detectors) -> dict[str, tuple[pa.Table, dict]]:
    """Per scenario: its events (ingested once) and what one-shot detect finds in them."""
    out = {}
    for name in SCENARIOS:
        path = tmp_path_factory.mktemp(name) / "staged.duckdb"
        with Store.open(path) as store:
            ingest_paths(store, scenario_files(name), redactor=Redactor(TEST_KEY))
            events = store.query("SELECT * FROM events ORDER BY time, seq")
            assert run_detection(store, detectors).failures == []
            out[name] = (events, findings(store))
    return out


def findings(store: Store, status: str | None = None) -> dict[str, tuple]:
    where = "" if status is None else f"WHERE status = '{status}'"
    return {
        r["finding_id"]: (r["rule_id"], r["severity"], len(r["event_ids"]))
        for r in store.rows(
            f"SELECT finding_id, rule_id, severity, event_ids FROM findings {where}"
        )
    }


def ordered(events: pa.Table, order: tuple | None) -> pa.Table:
    if order is None:
        return events
    sources = events.column("source").to_pylist()
    assert {s for group in order for s in group} >= set(sources)
    rows = [i for group in order for i, source in enumerate(sources) if source in group]
    return events.take(rows)


def batches(events: pa.Table, count: int) -> Iterator[pa.Table]:
    """`count` batches (fewer when there are fewer events)."""
    size = -(-events.num_rows // count)
    for start in range(0, events.num_rows, size):
        yield events.slice(start, size)


def arrive(store: Store, batch: pa.Table) -> None:
    """Store the batch as ingested now."""
    column = batch.schema.get_field_index("ingested_at")
    stamped = pa.array([now()] * batch.num_rows, batch.schema.field("ingested_at").type)
    store.append("events", batch.set_column(column, "ingested_at", stamped))


def watch_path(store: Store, events: pa.Table, count: int, detectors) -> None:
    held = None
    for batch in batches(events, count):
        began = now()
        arrive(store, batch)
        window = Window(began, held_since=held, seconds=600, settle_seconds=60)
        report = run_detection(store, detectors, window=window)
        assert report.failures == []
        held = report.unsettled_since
    # the lines still held have settled (watch's timer): judged as they are
    run_detection(store, detectors, window=Window(None, held_since=held, settle_seconds=0))


def assert_one_shots(store: Store, reference: dict[str, tuple], label: str) -> None:
    assert findings(store, "open") == reference, label
    resolved = {
        r["finding_id"]: json.loads(r["evidence"])["superseded_by"]
        for r in store.rows("SELECT finding_id, evidence FROM findings WHERE status = 'resolved'")
    }
    # each names the findings that took it over (none: its detector finds nothing of it in
    # the session its events now belong to), which are one-shot's or were superseded in turn
    for successors in resolved.values():
        assert set(successors) <= set(reference) | set(resolved), label


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_watch_in_any_batches_and_order_records_what_one_shot_detect_records(
    tmp_path, scenarios, detectors, scenario, order
):
    events, reference = scenarios[scenario]
    assert len(reference) >= 10  # (a scenario that finds little would prove little)
    for count in BATCHES:
        with Store.open(tmp_path / f"watch-{count}.duckdb") as store:
            watch_path(store, ordered(events, ORDERS[order]), count, detectors)
            assert_one_shots(store, reference, f"{count} batches")


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_shot_detect_after_each_batch_ends_with_one_shot_detects_findings(
    tmp_path, scenarios, detectors, scenario, order
):
    events, reference = scenarios[scenario]
    with Store.open(tmp_path / "oneshot.duckdb") as store:
        for batch in batches(ordered(events, ORDERS[order]), 5):
            arrive(store, batch)
            assert run_detection(store, detectors).failures == []
        assert_one_shots(store, reference, "5 batches")
