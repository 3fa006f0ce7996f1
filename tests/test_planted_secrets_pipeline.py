"""Issue 17: no planted secret in clear anywhere agentaudit keeps or sends text.

Every shape of `tests/planted_secrets.py` in every carrier, in every format `write_sources`
writes, goes the whole way a real install takes it: agent transcripts, hook logs, shell
histories and provider logs ingested from files; the same hook payloads recorded by the real
hook function (`record_hook`, the hook log); OTLP requests posted over HTTP to the real
receiver on 127.0.0.1 (stored, and spooled); damaged lines quarantined; detection; alert pages
delivered to a real HTTP receiver on 127.0.0.1; the guard deciding on the destructive calls
(its log and its answers); every export format; the timeline as Markdown, HTML and JSON.
Then every column of every table is read back through SQL, and the WAL, the exports, the
delivered bodies, the guard's answers and everything under AGENTAUDIT_HOME (hook logs, guard
log, OTLP spool) are searched as bytes: zero hits, and the run is checked to have produced
each kind of output, so an empty pass cannot pass.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentaudit.analyst.timeline_render import to_html, to_json, to_markdown
from agentaudit.analyst.timeline_steps import report_for
from agentaudit.enrich.secrets import redactor_for
from agentaudit.export.stream import export_to
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.realtime.guard.service import Guard
from agentaudit.receiver import LocalReceiver
from agentaudit.receivers.hook import record_hook
from agentaudit.receivers.otlp.server import OtlpReceiver
from agentaudit.store import Store
from tests.planted_secrets import SHAPES, scan_paths, scan_store, write_sources

DAY = (datetime(2026, 5, 20, tzinfo=UTC), datetime(2026, 5, 21, tzinfo=UTC))


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    work = tmp_path_factory.mktemp("planted-pipeline")
    home = work / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AGENTAUDIT_HOME", str(home))
        env.delenv("AGENTAUDIT_GUARD_LOG", raising=False)
        yield _run(work, home)


def _run(work: Path, home: Path) -> dict:
    inputs = work / "inputs"
    write_sources(inputs)
    out = {"work": work, "home": home, "db": work / "store.duckdb", "files": []}
    redactor = redactor_for()

    # the hook log: each payload of the hook logs, recorded again by the real hook function
    hook_payloads = []
    for log in sorted((inputs / "hooks").glob("*.jsonl")) + sorted(
        (inputs / "malformed").glob("*hooks*.jsonl")
    ):
        agent = "cursor" if "cursor" in log.name else "claude-code"
        for line in log.read_text().splitlines():
            try:
                envelope = json.loads(line)
            except ValueError:  # a damaged envelope: what a hook would get as broken stdin
                envelope = {"agent": agent, "payload_text": line}
            data = envelope.get("payload_text") or json.dumps(envelope.get("payload"))
            hook_payloads.append((envelope["agent"], data))
            record_hook(envelope["agent"], data.encode())

    with Store.open(out["db"]) as store:
        files = [p for p in inputs.iterdir() if p.name != "otlp"]
        out["ingest"] = ingest_paths(store, [*files, home / "hooks"], redactor=redactor)
        # the hook log alone in a store of its own, to compare with the clear logs' events
        with Store.open(work / "recorded.duckdb") as recorded:
            ingest_paths(recorded, [home / "hooks"], redactor=redactor)

        # OTLP over HTTP: stored by the receiver, and spooled by a second one
        requests = (inputs / "otlp" / "claude-code-logs.json").read_bytes().splitlines()
        with OtlpReceiver(store, port=0) as receiver:
            out["otlp"] = [_post(receiver.url, body) for body in requests]
        with OtlpReceiver(None, port=0, spool_dir=home / "otlp-spool") as spool:
            out["otlp"] += [_post(spool.url, body) for body in requests]

        with LocalReceiver() as rx:
            out["detect"], out["alerts"], out["deliveries"] = detect_and_alert(store, [rx.url()])
        delivered = work / "delivered"
        delivered.mkdir()
        for n, body in enumerate(rx.raw):
            (delivered / f"{n:04d}.body").write_bytes(body)
        out["delivered"] = len(rx.raw)

        # the guard on every shell call the hook logs carry (its answers leave the tool too)
        guard = Guard(connect=None, redactor=redactor, decided_by="hook")
        answers = work / "guard-answers"
        answers.mkdir()
        decisions = []
        for n, (agent, data) in enumerate(hook_payloads):
            if '"PreToolUse"' in data or '"beforeShellExecution"' in data:
                text, decision = guard.handle(agent, data)
                (answers / f"{n:05d}.json").write_text(text)
                decisions.append(decision.decision)
        out["decisions"] = decisions

        exports = work / "exports"
        exports.mkdir()
        for fmt in ("ocsf", "ecs", "hec", "cef"):
            what = "findings" if fmt == "cef" else "all"
            report = export_to(store, fmt, exports / f"all.{fmt}", what=what)
            out[f"exported_{fmt}"] = report.written

        timeline = report_for(store, start=DAY[0], end=DAY[1])
        for name, text in (
            ("timeline.md", to_markdown(timeline)),
            ("timeline.html", to_html(timeline)),
            ("timeline.json", to_json(timeline)),
        ):
            (work / name).write_text(text)
        out["timeline_steps"] = len(timeline.steps)
        out["counts"] = store.counts()
    return out


def test_nothing_in_clear_in_any_column_of_any_table(planted):
    hits = scan_store(planted["db"], SHAPES)
    assert [str(h) for h in hits] == []


def test_nothing_in_clear_in_files_the_tool_wrote_or_sent(planted):
    work, home = planted["work"], planted["home"]
    targets = [
        work / "exports",
        work / "delivered",
        work / "guard-answers",
        home,  # hook logs, the guard's decision log, the OTLP spool, the key
        *work.glob("timeline.*"),
        *work.glob("store.duckdb.wal"),
    ]
    hits = scan_paths(targets, SHAPES)
    assert [str(h) for h in hits] == []


def test_the_run_produced_every_kind_of_output(planted):
    """A scan of nothing finds nothing: each place scanned above holds data."""
    counts, home = planted["counts"], planted["home"]
    assert planted["ingest"].ingested > 3000
    assert counts["quarantine"] >= 9  # a damaged line per format
    assert counts["findings"] > 0 and counts["alerts"] > 0 and counts["finding_log"] > 0
    assert counts["outbox"] > 0 and counts["deliveries"] > 0
    assert planted["delivered"] > 0 and all(d["ok"] for d in planted["deliveries"])
    assert set(planted["otlp"]) == {200}
    assert all(planted[f"exported_{f}"] > 0 for f in ("ocsf", "ecs", "hec", "cef"))
    assert planted["timeline_steps"] > 0
    assert list((home / "hooks").glob("*.jsonl")) and list((home / "otlp-spool").glob("*"))
    assert (home / "guard" / "decisions.jsonl").stat().st_size > 0
    assert "deny" in planted["decisions"] or "ask" in planted["decisions"]


def test_the_hook_log_keeps_fingerprints_for_ingest(planted):
    """Redacted when written, the hook log still says which secrets a call held and which it
    used: each call read from it carries the same fingerprints as the same call read from the
    clear logs (Claude Code's and Cursor's)."""
    query = """SELECT source, session_id, command, credential_fp, list_sort(secret_fps) AS fps
               FROM {table} WHERE source LIKE '%hooks' AND command IS NOT NULL
               AND source_path NOT LIKE ? ORDER BY ALL"""
    recorded_db = planted["work"] / "recorded.duckdb"
    with Store.open(planted["db"], read_only=True) as store:
        store.con.execute(f"ATTACH '{recorded_db}' AS recorded (READ_ONLY)")
        clear = store.rows(query.format(table="events"), [str(planted["home"]) + "%"])
        recorded = store.rows(query.format(table="recorded.events"), ["-"])
    assert len(recorded) > 2000 and sum(1 for r in recorded if r["credential_fp"]) > 400
    assert {r["source"] for r in recorded} == {"claude-code.hooks", "cursor.hooks"}

    def calls(rows: list[dict]) -> set[tuple]:
        # a set: a payload the malformed logs repeat is one event in the clear store (same
        # event id), two in the hook log (a Cursor event's id includes when it was received)
        return {(*(r[k] for k in list(r)[:4]), tuple(r["fps"] or ())) for r in rows}

    clear_calls, recorded_calls = calls(clear), calls(recorded)
    assert recorded_calls - clear_calls == set()
    assert clear_calls - recorded_calls == set()
