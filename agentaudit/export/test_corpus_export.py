"""The whole corpus, exported: every OCSF record validates against 1.8.0 and every ECS document
uses only ECS 9.4.0 fields, with the pivots analysts use first counted row by row against the
store (caller IP, user agent, key id, cloud account; gen_ai.* for agent events only), and every
finding's related_events naming the type_uid its event is exported with."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import from_urls
from agentaudit.enrich.secrets import Redactor
from agentaudit.export.ocsf_activity import caller_address
from agentaudit.export.stream import export_to
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.receiver import LocalReceiver
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY
from tests.ocsf_validation import ocsf_errors

pytestmark = pytest.mark.slow  # the whole corpus ingested, detected and alerted (~30 s)


@pytest.fixture(scope="module")
def corpus_store(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus-export") / "store.duckdb"
    files = sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.name not in ("README.md", "SOURCES.md")
    )
    with Store.open(path) as store:
        ingest_paths(store, files, redactor=Redactor(TEST_KEY))
        with LocalReceiver() as rx:  # the alerter's target: a real loopback HTTP server
            detect_and_alert(store, [], config=from_urls([rx.url()]), clock=ManualClock())
        records = _export(store, "ocsf")
        docs = _export(store, "ecs")
        events = {
            e["event_id"]: e
            for e in store.rows(
                "SELECT event_id, source, origin, source_ip, user_agent, credential_id, "
                "env_hints, epoch_ms(coalesce(time, ingested_at)) AS ms FROM events"
            )
        }
    return records, docs, events


def _export(store, fmt):
    out = io.StringIO()
    export_to(store, fmt, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_ocsf_record_of_the_corpus_validates(corpus_store):
    records, _docs, events = corpus_store
    assert len(records) > 4000
    errors = {r["metadata"]["uid"]: e for r in records if (e := ocsf_errors(r))}
    # the semantic check reads a time before 2001 as seconds; a few zsh lines of the corpus
    # really say 1970 (`: 13:0;...`): exported in milliseconds, as the store has them
    for uid, found in list(errors.items()):
        if found == ["time is not epoch milliseconds"]:
            record = next(r for r in records if r["metadata"]["uid"] == uid)
            assert record["time"] == events[uid]["ms"] < 10**12
            del errors[uid]
    assert errors == {}
    assert {r["class_uid"] for r in records} >= {1007, 1001, 6003, 2004}


def _flatten(doc, prefix=""):
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_every_ecs_document_of_the_corpus_uses_ecs_fields(corpus_store, shared):
    _records, docs, _events = corpus_store
    ecs = yaml.safe_load((shared / "ecs-schema" / "9.4.0" / "ecs_flat.yml").read_text())
    allowed = {
        field: {v["name"]: v.get("expected_event_types") for v in ecs[field]["allowed_values"]}
        for field in ("event.kind", "event.category", "event.type", "event.outcome")
    }
    errors = []
    for doc in docs:
        for path, value in _flatten(doc):
            if not (path in ecs or path.startswith("agentaudit.")):
                errors.append((doc["event"]["id"], path))
            elif path in ecs and ecs[path]["type"] == "ip":
                for ip in value if isinstance(value, list) else [value]:
                    assert caller_address(ip)[0] == "ip", (path, value)
        event = doc["event"]
        expected = set()
        for category in event["category"]:
            expected |= set(allowed["event.category"][category] or [])
        for type_ in event["type"]:
            if type_ not in expected:
                errors.append((event["id"], type_))
        if event["kind"] not in allowed["event.kind"]:
            errors.append((event["id"], event["kind"]))
    assert errors == []


def test_cloudtrail_pivots_are_in_both_formats(corpus_store):
    records, docs, events = corpus_store
    ocsf = {r["metadata"]["uid"]: r for r in records if r["class_uid"] != 2004}
    ecs = {d["event"]["id"]: d for d in docs if d["event"]["kind"] == "event"}
    trail = [e for e in events.values() if e["source"] == "aws.cloudtrail"]
    assert len(trail) > 2000
    counted = {"ip": 0, "user_agent": 0, "key_id": 0, "account": 0}
    for event in trail:
        record, doc = ocsf[event["event_id"]], ecs[event["event_id"]]
        kind, address = caller_address(event["source_ip"])
        assert record["src_endpoint"][kind] == address
        assert doc["source"]["address"] == address
        counted["ip"] += kind == "ip" and doc["source"]["ip"] == address
        if event["user_agent"]:
            assert record["http_request"]["user_agent"] == event["user_agent"]
            assert doc["user_agent"]["original"] == event["user_agent"]
            counted["user_agent"] += 1
        if event["credential_id"]:
            assert record["actor"]["user"]["credential_uid"] == event["credential_id"]
            assert doc["agentaudit"]["credential"]["id"] == event["credential_id"]
            counted["key_id"] += 1
        assert record["cloud"]["provider"] == doc["cloud"]["provider"] == "aws"
        assert record["cloud"].get("region") == doc["cloud"].get("region")
        accounts = [h for h in event["env_hints"] or [] if h.startswith("aws_account=")]
        if accounts:
            assert record["cloud"]["account"]["uid"] == accounts[0].split("=", 1)[1]
            assert doc["cloud"]["account"]["id"] == accounts[0].split("=", 1)[1]
            counted["account"] += 1
        assert record["src_endpoint"].get("name") != event["source"]  # not the log's name
    # every row that has the pivot carries it (the store's own counts)
    assert counted["account"] == sum(
        1 for e in trail if any(h.startswith("aws_account=") for h in e["env_hints"] or [])
    )
    assert counted["user_agent"] == sum(1 for e in trail if e["user_agent"])
    assert counted["key_id"] == sum(1 for e in trail if e["credential_id"])
    assert counted["ip"] == sum(1 for e in trail if caller_address(e["source_ip"])[0] == "ip")
    assert counted["ip"] > 2000 and counted["key_id"] > 2000 and counted["account"] > 2000


def test_gen_ai_fields_only_on_agent_events(corpus_store):
    _records, docs, events = corpus_store
    origins: dict[str, dict[str, int]] = {}
    for doc in docs:
        if doc["event"]["kind"] != "event":
            continue
        origin = events[doc["event"]["id"]]["origin"]
        tally = origins.setdefault(origin, {"with": 0, "without": 0})
        tally["with" if "gen_ai" in doc else "without"] += 1
    assert origins["agent"]["without"] == 0 and origins["agent"]["with"] > 300
    for origin in ("provider", "shell"):
        assert origins[origin]["with"] == 0 and origins[origin]["without"] > 0


def test_related_events_carry_the_type_uid_their_event_is_exported_with(corpus_store):
    records, _docs, _events = corpus_store
    exported = {r["metadata"]["uid"]: r["type_uid"] for r in records if r["class_uid"] != 2004}
    references = [
        ref
        for r in records
        if r["class_uid"] == 2004
        for ref in r["finding_info"].get("related_events", [])
    ]
    assert len(references) > 100
    for ref in references:
        assert ref.get("type_uid") == exported.get(ref["uid"]), ref


def test_process_name_is_the_executable(corpus_store):
    records, _docs, _events = corpus_store
    launches = [r for r in records if r["class_uid"] == 1007 and r["process"]["cmd_line"].strip()]
    assert len(launches) > 100
    for record in launches:
        name = record["process"].get("name")
        assert name and " " not in name and "/" not in name, record["process"]
