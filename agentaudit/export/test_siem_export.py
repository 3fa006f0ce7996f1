"""SIEM exports: every OCSF line validates against 1.8.0, ECS uses only ECS 9.4.0 fields,
HEC envelopes go to a file or a real loopback collector, one CEF line per finding record,
and the stored cursor gives each record once across runs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import from_urls
from agentaudit.alert.engine import acknowledge, evaluate
from agentaudit.cli import app
from agentaudit.enrich.secrets import Redactor
from agentaudit.export.cef import escape_extension, escape_header
from agentaudit.export.ocsf_activity import event_to_ocsf
from agentaudit.export.parquet import export_parquet
from agentaudit.export.stream import (
    ExistingOutput,
    export_to,
    load_cursor,
    parse_since,
    post_hec,
)
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.scenarios.replay import load_spec
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY, event
from tests.ocsf_validation import ocsf_errors

POCKETOS_SESSION = "8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"
TOKEN = "6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84"  # the PocketOS replay's (fake) Railway token
CORPUS_FILES = [
    "zsh/generated-zsh5.9-extended-history-metafied",
    "zsh/plaso-zsh_extended_history.txt",
    "cursor/fusengine-preToolUse-02-shell-authentic.json",
    "cursor/fusengine-preToolUse-03-write-newline-tool-use-id-authentic.json",
]


def denied_event():
    return event(
        30,
        source="cursor.hooks",
        kind="process",
        status="denied",
        command="git push --force origin main",
        tool_name="Shell",
        session_id="sess-deny",
        actor="alice",
        host="dev-laptop-01",
        model="claude-opus-4-6",
    )


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory, corpus):
    """PocketOS + corpus files ingested, detected, alerted, acknowledged and resolved: once."""
    path = tmp_path_factory.mktemp("siem") / "store.duckdb"
    files = [*scenario_files("pocketos"), *(corpus / f for f in CORPUS_FILES)]
    with Store.open(path) as store:
        ingest_paths(store, files, redactor=Redactor(TEST_KEY))
        store.append_events([denied_event()])
        clock = ManualClock()
        with LocalReceiver() as rx:
            cfg = from_urls([rx.url()])
            detect_and_alert(store, [], config=cfg, clock=clock)
            alert_id = store.rows(
                "SELECT alert_id FROM alerts WHERE session_id = ?", [POCKETOS_SESSION]
            )[0]["alert_id"]
            acknowledge(store, cfg, alert_id, by="bob", clock=clock)
            clock.advance(3600)  # quiet for resolve_timeout (30 m): the groups close
            evaluate(store, cfg, clock)
    return path, rx.received, files


@pytest.fixture
def loaded(loaded_db, tmp_path):
    """A private copy of the prepared store for each test (tests move cursors)."""
    source, received, files = loaded_db
    copy = tmp_path / "store.duckdb"
    shutil.copyfile(source, copy)
    with Store.open(copy) as store:
        store.received = received
        store.input_files = files
        yield store


def lines(store, fmt, **kwargs):
    out = io.StringIO()
    export_to(store, fmt, out, **kwargs)
    return out.getvalue().splitlines()


def test_every_ocsf_line_validates_with_each_class_present(loaded):
    records = [json.loads(line) for line in lines(loaded, "ocsf")]
    for record in records:
        assert ocsf_errors(record) == [], (record["class_uid"], record["metadata"]["uid"])
    type_uids = {r["type_uid"] for r in records}
    assert {100701, 100102, 600304, 200401, 200402, 200403} <= type_uids
    lifecycles = {}
    for r in records:
        if r["class_uid"] == 2004:
            lifecycles.setdefault(r["finding_info"]["title"], []).append(r["activity_name"])
    # the PocketOS incident (its findings joining one after another, then acknowledged, then
    # quiet) and the corpus zsh file's own volumeDelete curl (its findings joining, then quiet)
    shapes = sorted(lifecycles.values(), key=len)
    assert len(shapes) == 2
    for life in shapes:
        assert life[0] == "Create" and life[-1] == "Close" and set(life[1:-1]) == {"Update"}
    # every distinct expected finding of the scenario joined (an Update each) plus the ack
    assert len(shapes[1]) - 2 >= len({e["rule"] for e in load_spec("pocketos")["expect"]})
    denied = next(r for r in records if r.get("action_id") == 2)
    assert denied["metadata"]["profiles"] == ["security_control", "ai_operation"]
    assert (denied["disposition_id"], denied["status_id"]) == (2, 2)
    assert denied["process"]["cmd_line"] == "git push --force origin main"


def test_activity_classes_follow_the_event_kind(loaded):
    by_kind = {}
    for ev in loaded.rows("SELECT * FROM events ORDER BY ingested_at, event_id"):
        record = event_to_ocsf(ev)
        by_kind.setdefault(ev["kind"], set()).add(record["class_uid"] if record else None)
    assert by_kind["process"] == {1007}
    assert by_kind["file"] == {1001}
    assert by_kind["api"] == {6003}
    assert by_kind["message"] == {None}  # prompts and replies are not activity


def _flatten(doc, prefix=""):
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def test_ecs_lines_use_only_ecs_fields_and_allowed_values(loaded, shared):
    ecs = yaml.safe_load((shared / "ecs-schema" / "9.4.0" / "ecs_flat.yml").read_text())
    allowed = {
        field: {v["name"]: v.get("expected_event_types") for v in ecs[field]["allowed_values"]}
        for field in ("event.kind", "event.category", "event.type", "event.outcome")
    }
    docs = [json.loads(line) for line in lines(loaded, "ecs")]
    kinds = {d["event"]["kind"] for d in docs}
    assert kinds == {"event", "alert"}
    for doc in docs:
        for path, _value in _flatten(doc):
            assert path in ecs or path.startswith("agentaudit."), path
        event_ = doc["event"]
        assert event_["kind"] in allowed["event.kind"]
        assert event_.get("outcome", "unknown") in allowed["event.outcome"]
        expected = set()
        for category in event_["category"]:
            expected |= set(allowed["event.category"][category])
        for type_ in event_["type"]:
            assert type_ in allowed["event.type"] and type_ in expected, (event_, type_)
        assert doc["ecs"]["version"] == "9.4.0" and doc["@timestamp"].endswith("Z")
    alert = next(d for d in docs if d["event"]["kind"] == "alert")
    assert alert["event"]["category"] == ["intrusion_detection"]
    assert alert["event"]["risk_score"] == 99.0
    assert alert["threat"]["technique"]["id"] == ["T1485"]
    denied = next(d for d in docs if "denied" in d["event"]["type"])
    assert denied["event"]["outcome"] == "failure"


def test_one_cef_line_per_finding_record(loaded):
    cef = lines(loaded, "cef", what="findings")
    findings = [json.loads(line) for line in lines(loaded, "ocsf", what="findings")]
    assert len(cef) == len(findings) > 0  # the two lifecycles above
    for line, record in zip(cef, findings, strict=True):
        header = line.split("|")
        assert header[:4] == ["CEF:0", "agentaudit", "agentaudit", "0.1.0"]
        assert header[6] == "10"  # critical
        assert f"externalId={record['finding_info']['uid']}" in line
        assert f"cs3={record['type_uid']}" in line and "\n" not in line
    assert "cs3=200403" in cef[-1] and "cs2=Resolved" in cef[-1]


def test_cef_escaping():
    assert escape_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert escape_extension("k=v\\x\ny|z") == "k\\=v\\\\x\\ny|z"


def test_hec_file_envelopes_wrap_the_ocsf_object(loaded):
    ocsf = [json.loads(line) for line in lines(loaded, "ocsf")]
    hec = [json.loads(line) for line in lines(loaded, "hec", index="security")]
    assert [h["event"] for h in hec] == ocsf
    for envelope in hec:
        assert set(envelope) == {"time", "host", "source", "sourcetype", "index", "event", "fields"}
        assert envelope["time"] == envelope["event"]["time"] / 1000
        assert envelope["sourcetype"] == "agentaudit:ocsf" and envelope["index"] == "security"
        assert all(isinstance(v, str) for v in envelope["fields"].values())


def test_hec_post_to_a_local_collector_retries_5xx_and_resumes_after_4xx(loaded):
    with LocalReceiver([503, 200, 400]) as hec:
        url = hec.url("http", "/services/collector/event")
        first = post_hec(loaded, url, "hec-token-1", cursor_name="hec", batch_size=10)
        second = post_hec(loaded, url, "hec-token-1", cursor_name="hec", batch_size=10)
    total = len(lines(loaded, "ocsf"))
    assert first.written == 10 and first.errors and "400" in first.errors[0]
    assert second.written == total - 10 and second.errors == []
    assert [r["status"] for r in hec.received[:3]] == [503, 200, 400]
    assert hec.received[0]["headers"]["Authorization"] == "Splunk hec-token-1"
    accepted = [
        json.loads(line) for request in hec.accepted() for line in request["body"].splitlines()
    ]
    uids = [a["event"]["metadata"]["uid"] for a in accepted]
    assert len(uids) == len(set(uids)) == total  # every record once: no gap, no duplicate


def test_cursor_gives_each_record_once_across_runs(loaded, redactor, tmp_path):
    first = lines(loaded, "ocsf", cursor_name="shipper")
    assert lines(loaded, "ocsf", cursor_name="shipper") == []
    extra = tmp_path / "more_history"
    extra.write_text(
        ": 1895317999:0;rm -rf /var/lib/cursor-test\n: 1895318000:0;echo cursor-test\n"
    )
    ingest_paths(loaded, [extra], redactor=redactor)
    third = lines(loaded, "ocsf", cursor_name="shipper")
    assert len(third) == 2
    full = lines(loaded, "ocsf")
    assert sorted(first + third) == sorted(full)
    assert lines(loaded, "ecs", cursor_name="ecs-shipper") != []  # cursors are per name


def test_since_filters_by_time(loaded):
    assert lines(loaded, "ocsf", since=parse_since("2100-01-01T00:00:00Z")) == []
    recent = lines(loaded, "ocsf", what="events", since=event(0)["time"])
    assert 0 < len(recent) < len(lines(loaded, "ocsf", what="events"))


def test_no_secret_reaches_any_alert_or_export(loaded, redactor):
    secrets = {TOKEN}
    for path in loaded.input_files:
        secrets |= {
            value for value, _kind, _used in redactor.find(Path(path).read_text("utf-8", "replace"))
        }
    assert "rw_fake_0000000000000000" in secrets and len(secrets) >= 3
    outputs = [json.dumps(loaded.received)]
    outputs += ["\n".join(lines(loaded, fmt)) for fmt in ("ocsf", "ecs", "hec", "cef")]
    for table in ("alerts", "outbox", "deliveries", "finding_log", "alert_members"):
        outputs.append(json.dumps(loaded.rows(f"SELECT * FROM {table}"), default=str))
    text = "\n".join(outputs)
    assert "[SECRET:" in text  # the redacted form is what travels
    for secret in secrets:
        assert secret not in text, secret


def test_export_cli_formats_and_cursor(loaded, tmp_path):
    runner = CliRunner()
    db = str(loaded.path)
    loaded.close()
    out = tmp_path / "ecs.ndjson"
    ran = runner.invoke(app, ["export", "--format", "ecs", "--out", str(out), "--db", db, "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["written"] == len(out.read_text().splitlines()) > 0
    before = out.read_bytes()
    # the README's command run twice: the second run neither truncates nor replaces the file
    again = runner.invoke(app, ["export", "--format", "ecs", "--out", str(out), "--db", db])
    assert again.exit_code == 2 and "--append" in again.output and "--force" in again.output
    assert "Traceback" not in again.output and out.read_bytes() == before
    appended = runner.invoke(
        app, ["export", "--format", "ecs", "--out", str(out), "--append", "--db", db]
    )
    assert appended.exit_code == 0 and "left as it was" in appended.output
    assert out.read_bytes() == before
    replaced = runner.invoke(
        app, ["export", "--format", "ecs", "--out", str(out), "--no-cursor", "--force", "--db", db]
    )
    assert replaced.exit_code == 0 and out.read_bytes() == before  # the whole export again
    with Store.open(db, read_only=True) as store:
        records = len(lines(store, "ocsf", what="findings"))
    cef = runner.invoke(app, ["export", "--format", "cef", "--no-cursor", "--db", db])
    assert cef.exit_code == 0 and cef.output.count("CEF:0|agentaudit|") == records
    bad = runner.invoke(app, ["export", "--format", "xml", "--db", db])
    assert bad.exit_code == 2


def test_hec_cli_posts_with_the_token_from_the_environment(loaded, monkeypatch):
    db = str(loaded.path)
    total = len(lines(loaded, "ocsf"))
    loaded.close()
    runner = CliRunner()
    with LocalReceiver() as hec:
        url = hec.url("http", "/services/collector/event")
        missing = runner.invoke(app, ["export", "--format", "hec", "--hec-url", url, "--db", db])
        monkeypatch.setenv("AGENTAUDIT_HEC_TOKEN", "cli-token")
        sent = runner.invoke(
            app, ["export", "--format", "hec", "--hec-url", url, "--db", db, "--json"]
        )
    assert missing.exit_code == 2 and "AGENTAUDIT_HEC_TOKEN" in missing.output
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output)["written"] == total
    assert {r["headers"]["Authorization"] for r in hec.received} == {"Splunk cli-token"}
    assert "cli-token" not in sent.output


def test_since_accepts_a_duration_back_from_now():
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("2026-04-24T19:23:41Z") == datetime(2026, 4, 24, 19, 23, 41, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("yesterday-ish")


def test_append_mode_grows_one_file_without_duplicates(loaded, redactor, tmp_path):
    out = tmp_path / "tail.ndjson"
    first = export_to(loaded, "ocsf", out, cursor_name="tail", append=True)
    extra = tmp_path / "later_history"
    extra.write_text(": 1895317999:0;rm -rf /var/lib/append-test\n")
    ingest_paths(loaded, [extra], redactor=redactor)
    second = export_to(loaded, "ocsf", out, cursor_name="tail", append=True)
    written = out.read_text().splitlines()
    assert (second.written, len(written)) == (1, first.written + 1)
    assert sorted(written) == sorted(lines(loaded, "ocsf"))


def test_refused_overwrite_leaves_file_and_cursor(loaded, tmp_path):
    out = tmp_path / "batch.ndjson"
    first = export_to(loaded, "ocsf", out, cursor_name="batch")
    before, cursor = out.read_bytes(), load_cursor(loaded, "batch")
    with pytest.raises(ExistingOutput):
        export_to(loaded, "ocsf", out, cursor_name="batch")
    assert out.read_bytes() == before and load_cursor(loaded, "batch") == cursor
    # an append adds nothing new (the file stays byte for byte); a cursor-less force writes
    # everything again
    assert export_to(loaded, "ocsf", out, cursor_name="batch", append=True).written == 0
    assert export_to(loaded, "ocsf", out, force=True).written == first.written
    assert out.read_bytes() == before


def test_parquet_export_partitions_by_date_and_source_and_resumes(loaded, redactor, tmp_path):
    lake = tmp_path / "lake"
    first = export_parquet(loaded, lake, cursor_name="lake")
    events = loaded.count("events")
    findings = loaded.count("finding_log")
    assert (first.events, first.findings) == (events, findings) and findings > 0
    con = duckdb.connect()
    stored = con.execute(
        f"SELECT date::VARCHAR, source, count(*) FROM read_parquet('{lake}/events/*/*/*.parquet', "
        "hive_partitioning = true) GROUP BY ALL"
    ).fetchall()
    expected = loaded.con.execute(
        "SELECT strftime(coalesce(time, ingested_at) AT TIME ZONE 'UTC', '%Y-%m-%d'), source, "
        "count(*) FROM events GROUP BY ALL"
    ).fetchall()
    assert sorted(stored) == sorted(expected)
    for part in (lake / "events").rglob("*.parquet"):
        date, source = part.parent.parent.name, part.parent.name
        assert date.startswith("date=") and source.startswith("source=")
        assert part.name.startswith("part-")
    uids = con.execute(
        f"SELECT record_id FROM read_parquet('{lake}/findings/*/*/*.parquet')"
    ).fetchall()
    assert len(uids) == findings
    # nothing new: no file is written or replaced; a new event: one new part file
    files = {p: p.read_bytes() for p in lake.rglob("*.parquet")}
    assert export_parquet(loaded, lake, cursor_name="lake").written == 0
    assert {p: p.read_bytes() for p in lake.rglob("*.parquet")} == files
    extra = tmp_path / "later_history"
    extra.write_text(": 1895317999:0;rm -rf /var/lib/parquet-test\n")
    ingest_paths(loaded, [extra], redactor=redactor)
    assert export_parquet(loaded, lake, cursor_name="lake").events == 1
    assert len(list(lake.rglob("*.parquet"))) == len(files) + 1
    total = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake}/events/*/*/*.parquet')"
    ).fetchone()[0]
    assert total == events + 1


def test_parquet_cli_writes_a_directory(loaded, tmp_path):
    db = str(loaded.path)
    loaded.close()
    runner = CliRunner()
    lake = tmp_path / "lake"
    ran = runner.invoke(
        app, ["export", "--format", "parquet", "--out", str(lake), "--db", db, "--json"]
    )
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["written"] > 0 and list(lake.rglob("part-*.parquet"))
    to_stdout = runner.invoke(app, ["export", "--format", "parquet", "--db", db])
    assert to_stdout.exit_code == 2 and "--out" in to_stdout.output


def test_cef_exports_findings_only_as_documented(loaded):
    cef = lines(loaded, "cef")  # every record offered: activity has no CEF line
    report = export_to(loaded, "cef", io.StringIO())
    assert report.written == len(cef) == report.findings > 0 and report.events == 0
    # every event and every chain checkpoint record is offered and has no CEF line
    assert report.skipped == loaded.count("events") + loaded.count("chain_checkpoints")
    assert all(line.startswith("CEF:0|agentaudit|agentaudit|") for line in cef)
