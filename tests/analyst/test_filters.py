"""The analyst filters on a store of generated Cursor hook sessions (the real hook-log format,
ingested and detected): `incidents list`, `timeline` and their library functions narrow by
severity, time, actor, credential, source, environment and status, sort, limit, and always say
the true count. The timeline's SVG labels never overlap, however dense the flags."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from agentaudit.analyst.filters import Filters
from agentaudit.analyst.incidents import find_incidents, incident_facets
from agentaudit.analyst.timeline_render import _CHAR_PX, timeline_svg
from agentaudit.analyst.timeline_steps import filter_steps, report_for
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank
from tests.analyst.busy_store import cursor_sessions
from tests.cli_helpers import invoke_cli, run_cli

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def busy_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("filters")
    hooks = cursor_sessions(folder / "cursor-hooks.jsonl", 24)
    with Store.open(folder / "busy.duckdb") as store:
        ingest_paths(store, [hooks])
        detect_and_alert(store, [], deliver=False)
    return folder / "busy.duckdb"


@pytest.fixture
def busy(busy_db):
    with Store.open(busy_db, read_only=True) as store:
        yield store


def _count(store: Store, where: str = "TRUE", *params: object) -> int:
    return store.rows(f"SELECT count(*) AS n FROM incidents WHERE {where}", list(params))[0]["n"]


def test_the_count_is_the_true_count_whatever_the_limit(busy):
    total = _count(busy)
    assert total >= 20
    page = find_incidents(busy, Filters(limit=5))
    assert len(page.rows) == 5 and page.total == total
    assert page.count_line("incident") == f"{total} incidents (first 5 shown)"
    every = find_incidents(busy, Filters(limit=None))
    assert len(every.rows) == total and not every.truncated


def test_each_filter_keeps_only_what_it_names(busy):
    critical = find_incidents(busy, Filters(severity=("critical",), limit=None))
    assert critical.total == _count(busy, "severity = 'critical'") > 0
    assert {r["severity"] for r in critical.rows} == {"critical"}

    mixed_case = find_incidents(busy, Filters(actor="DEV2@EXAMPLE", limit=None))
    assert mixed_case.total > 0
    assert all(any("dev2@" in a for a in r["actors"]) for r in mixed_case.rows)
    exact = find_incidents(busy, Filters(actor="dev2@example.com", exact_actor=True, limit=None))
    assert exact.total == mixed_case.total
    assert find_incidents(busy, Filters(actor="dev2@", exact_actor=True)).total == 0

    production = find_incidents(busy, Filters(environment="production", limit=None))
    assert production.total == _count(busy, "list_contains(environments, 'production')") > 0
    assert find_incidents(busy, Filters(source="cursor.hooks")).total == _count(busy)
    assert find_incidents(busy, Filters(source="aws.cloudtrail")).total == 0
    assert find_incidents(busy, Filters(status="firing")).total == _count(busy, "status='firing'")
    assert find_incidents(busy, Filters(credential="no-such-key")).total == 0

    both = find_incidents(busy, Filters(severity=("critical",), actor="dev2@", limit=None))
    assert both.total == _count(
        busy, "severity = 'critical' AND list_contains(actors, 'dev2@example.com')"
    )


def test_time_range_and_order(busy):
    every = find_incidents(busy, Filters(limit=None, sort="oldest")).rows
    starts = [r["started"] for r in every]
    assert starts == sorted(starts)
    middle = starts[len(starts) // 2]
    later = find_incidents(busy, Filters(since=middle, limit=None))
    assert later.total == sum(1 for r in every if (r["ended"] or r["started"]) >= middle)
    earlier = find_incidents(busy, Filters(until=middle, limit=None))
    assert earlier.total == sum(1 for r in every if r["started"] <= middle)
    nothing = find_incidents(busy, Filters(since=datetime(2030, 1, 1, tzinfo=UTC)))
    assert nothing.total == 0 and nothing.rows == []
    ranks = [
        severity_rank(r["severity"]) for r in find_incidents(busy, Filters(sort="severity")).rows
    ]
    assert ranks == sorted(ranks, reverse=True)
    with pytest.raises(ValueError, match="sort by one of"):
        Filters(sort="loudest")


def test_facets_offer_the_store_s_own_values(busy):
    facets = incident_facets(busy)
    assert "dev0@example.com" in facets["actors"]
    assert facets["sources"] == ["cursor.hooks"]
    assert set(facets["critical_by_actor"]) <= set(facets["actors"])
    assert facets["critical_by_actor"]


def test_timeline_steps_filter_by_actor_and_keep_the_whole_timeline_s_offsets(busy):
    [head] = busy.rows(
        "SELECT incident_id FROM incidents WHERE severity = 'critical' ORDER BY started LIMIT 1"
    )
    whole = report_for(busy, incident=head["incident_id"])
    actor = next(s.actor for s in whole.steps if s.actor)
    shown = filter_steps(whole, Filters(actor=actor.upper(), limit=1, sort="oldest"))
    assert shown.matched == sum(1 for s in whole.steps if s.actor == actor)
    assert len(shown.steps) == 1 and shown.steps[0].offset_ms == whole.steps[0].offset_ms
    assert shown.count_line.startswith(f"{shown.matched} of {whole.total_steps} steps match")
    assert filter_steps(whole, Filters(actor="nobody", limit=None)).steps == []
    critical = filter_steps(whole, Filters(severity=("critical",), limit=None))
    assert critical.steps and all(s.severity == "critical" for s in critical.steps)


def test_the_cli_filters_and_says_the_true_count(busy_db):
    db = busy_db
    with Store.open(db, read_only=True) as busy:
        total = _count(busy)
        critical = _count(busy, "severity = 'critical'")
        [head] = busy.rows("SELECT incident_id FROM incidents ORDER BY started LIMIT 1")
    out = run_cli("incidents", "list", "--db", db, "--limit", "3", env={"COLUMNS": "200"})
    assert f"{total} incidents (first 3 shown)" in out
    out = run_cli("incidents", "list", "--db", db, "-s", "critical", "--limit", "0",
                  "--sort", "severity", env={"COLUMNS": "200"})  # fmt: skip
    assert f"{critical} incidents; severity critical" in out
    assert "dev" in out  # the actor column
    bad = invoke_cli("incidents", "list", "--db", db, "--severity", "urgent")
    assert bad.exit_code == 2 and "unknown severity 'urgent'" in bad.output
    assert "Traceback" not in bad.output
    bad = invoke_cli("incidents", "list", "--db", db, "--since", "yesterday-ish")
    assert bad.exit_code == 2 and "--since/--until must be ISO-8601" in bad.output
    out = run_cli("timeline", "--incident", head["incident_id"][:12], "--db", db,
                  "--actor", "example.com", "--limit", "1", env={"COLUMNS": "200"})  # fmt: skip
    assert re.search(r"\d+ of \d+ steps match actor ~ 'example.com'", out)


def _label_boxes(svg_text: str) -> list[tuple[str, float, float, float]]:
    """(text, left, right, baseline) of every label, its width at the layout's char width."""
    svg = ET.fromstring(svg_text)
    boxes = []
    for t in svg.iter(f"{SVG}text"):
        text = t.text or ""
        x, y = float(t.get("x")), float(t.get("y"))
        width = len(text) * _CHAR_PX
        left = {"end": x - width, "middle": x - width / 2}.get(t.get("text-anchor"), x)
        boxes.append((text, left, left + width, y))
    return boxes


def test_dense_flags_and_step_labels_do_not_overlap(busy):
    """Every session's timeline, and one window with all of them: labels on one line never
    share horizontal space (at a generous 8 px a character)."""
    first, last = busy.rows("SELECT min(time) AS a, max(time) AS b FROM events")[0].values()
    reports = [report_for(busy, start=first, end=last)]
    reports += [report_for(busy, incident=r["incident_id"]) for r in busy.rows(
        "SELECT incident_id FROM incidents LIMIT 5")]  # fmt: skip
    for report in reports:
        boxes = _label_boxes(timeline_svg(report))
        by_line: dict[float, list[tuple[str, float, float, float]]] = {}
        for box in boxes:
            by_line.setdefault(box[3], []).append(box)
        for line in by_line.values():
            line.sort(key=lambda b: b[1])
            for a, b in itertools.pairwise(line):
                assert a[2] <= b[1], (a, b)
    window = timeline_svg(reports[0])
    assert "findings" in window  # the busy window's flags are counted, not listed
