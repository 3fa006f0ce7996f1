"""Ingest with worker processes stores exactly what the serial path stores.

Thresholds are lowered so that small files take the parallel path and big Records documents
are cut into many chunks; everything else (the pool, the store, the files) is real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentaudit.ingest import ingest_paths
from agentaudit.ingest import parallel as ingest_parallel
from agentaudit.store import Store
from bench.cloudtrail_ingest import records

SKIP = {"ingested_at", "updated_at"}


@pytest.fixture
def small_units(monkeypatch):
    """Lowered thresholds, and a tally (in this, the parent process) of what took which path."""
    monkeypatch.setattr(ingest_parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_parallel, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(ingest_parallel, "APPEND_BYTES", 150_000)  # several appends a run
    tally = {"chunks": 0, "files": 0, "serial": 0}
    take, serially = ingest_parallel._Appender.take, ingest_parallel._Appender._read_serially

    def counting_take(self, unit):
        if isinstance(unit, ingest_parallel._Unit) and unit.future is not None:
            tally["files" if unit.chunk is None else "chunks"] += 1
        return take(self, unit)

    def counting_serially(self, plan, partial):
        tally["serial"] += 1
        return serially(self, plan, partial)

    monkeypatch.setattr(ingest_parallel._Appender, "take", counting_take)
    monkeypatch.setattr(ingest_parallel._Appender, "_read_serially", counting_serially)
    return tally


def _table(store: Store, name: str, key: str) -> list[dict]:
    rows = store.rows(f"SELECT * FROM {name} ORDER BY {key}")
    return [{k: v for k, v in row.items() if k not in SKIP} for row in rows]


def _both(tmp_path: Path, paths: list[Path], redactor, runs: int = 1, **kwargs) -> list[dict]:
    """Ingest `paths` serially and with 2 workers into two stores; return what each holds."""
    out = []
    for jobs in (1, 2):
        with Store.open(tmp_path / f"jobs{jobs}.duckdb") as store:
            reports = [
                ingest_paths(store, paths, redactor=redactor, jobs=jobs, **kwargs)
                for _ in range(runs)
            ]
            out.append(
                {
                    "events": _table(store, "events", "event_id"),
                    "quarantine": _table(store, "quarantine", "quarantine_id"),
                    "checkpoints": _table(store, "checkpoints", "path"),
                    "reports": [
                        [
                            (f.path, f.status, f.ingested, f.duplicate, f.quarantined)
                            for f in r.files
                        ]
                        for r in reports
                    ],
                }
            )
    return out


def _trail(path: Path, items: list) -> Path:
    path.write_text(
        '{"Records":[' + ",".join(json.dumps(r, separators=(",", ":")) for r in items) + "]}"
    )
    return path


def test_cloudtrail_chunks_store_the_same_rows_and_rerun_adds_nothing(
    small_units, tmp_path, redactor
):
    big = _trail(tmp_path / "big.json", list(records(400)))
    # the same 50 records again in another file: duplicates across files
    again = _trail(tmp_path / "again.json", list(records(50)))
    serial, parallel = _both(tmp_path, [big, again], redactor, runs=2)
    assert len(serial["events"]) == 400
    assert parallel == serial
    assert serial["reports"] == [
        [(str(big), "read", 400, 0, 0), (str(again), "read", 0, 50, 0)],
        [(str(big), "unchanged", 0, 0, 0), (str(again), "unchanged", 0, 0, 0)],
    ]
    seqs = sorted(e["seq"] for e in parallel["events"])
    assert seqs == list(range(400))  # chunk-local positions shifted to the file's
    assert small_units["chunks"] >= 10 and small_units["serial"] == 0


def test_a_false_cut_falls_back_to_the_serial_path(small_units, tmp_path, redactor):
    """`},{"eventVersion"` as a nested object's first key, in the last record: the last cut
    marker of the last block, so the cut is made there (a marker cannot occur inside a
    string: its `"` would have to close the string and be followed by the key)."""
    items = list(records(300))
    items[40]["requestParameters"] = {"note": 'x},{"eventVersion":"1"}'}
    items[-1]["requestParameters"] = {"items": [{"a": 1}, {"eventVersion": "nested"}]}
    trail = _trail(tmp_path / "tricky.json", items)
    serial, parallel = _both(tmp_path, [trail], redactor)
    assert parallel == serial
    assert serial["reports"] == [[(str(trail), "read", 300, 0, 0)]]
    assert small_units["serial"] == 1  # the bad cut was caught and the file read serially


def test_damaged_document_quarantines_like_the_serial_path(small_units, tmp_path, redactor):
    trail = _trail(tmp_path / "cut.json", list(records(300)))
    data = trail.read_bytes()
    trail.write_bytes(data[: len(data) // 2])  # truncated mid-record
    serial, parallel = _both(tmp_path, [trail], redactor)
    assert parallel == serial
    [[(_path, status, ingested, _dup, quarantined)]] = serial["reports"]
    assert (status, quarantined) == ("read", 1) and 100 < ingested < 200
    assert small_units["serial"] == 1


def test_record_quarantine_inside_a_chunk_is_kept(small_units, tmp_path, redactor):
    items = list(records(120))
    items[70] = {"eventVersion": "1.09", "note": "no eventName"}
    trail = _trail(tmp_path / "odd.json", items)
    serial, parallel = _both(tmp_path, [trail], redactor)
    assert parallel == serial
    assert serial["reports"] == [[(str(trail), "read", 119, 0, 1)]]
    assert serial["quarantine"][0]["reason"] == "no eventName: not a CloudTrail record"
    assert small_units["chunks"] >= 3 and small_units["serial"] == 0


@pytest.mark.parametrize("grouped", [True, False])
def test_agent_transcripts_per_file(small_units, tmp_path, redactor, corpus, grouped, monkeypatch):
    """Small files go to a worker in groups (enriched together) or, above
    SMALL_FILE_BYTES, one file a job: the same rows either way."""
    if not grouped:
        monkeypatch.setattr(ingest_parallel, "SMALL_FILE_BYTES", 0)
    else:
        monkeypatch.setattr(ingest_parallel, "GROUP_BYTES", 300_000)  # several groups
    files = sorted((corpus / "claude-code").glob("*.jsonl")) + sorted(
        (corpus / "codex").glob("*.jsonl")
    )
    serial, parallel = _both(tmp_path, files, redactor)
    assert parallel == serial
    assert len(serial["events"]) > 300
    assert small_units["files"] == len(files)


def test_appended_transcript_is_read_from_its_offset(small_units, tmp_path, redactor, corpus):
    first, second = (
        corpus / "codex" / "codemie-incremental-turn-1.jsonl",
        corpus / "codex" / "codemie-incremental-turn-2.jsonl",
    )
    if not first.exists():
        pytest.skip("incremental pair not in the corpus")
    live = tmp_path / "rollout.jsonl"
    results = []
    for jobs in (1, 2):
        live.write_bytes(first.read_bytes())
        with Store.open(tmp_path / f"inc{jobs}.duckdb") as store:
            one = ingest_paths(store, [live], redactor=redactor, jobs=jobs)
            live.write_bytes(second.read_bytes())
            two = ingest_paths(store, [live], redactor=redactor, jobs=jobs)
            results.append(
                (one.ingested, two.ingested, two.duplicate, _table(store, "events", "event_id"))
            )
    assert results[0] == results[1]
    assert results[0][1] > 0 and results[0][2] == 0  # only the new calls, nothing twice


def test_cli_jobs_option_ingests_once(small_units, tmp_path):
    import json as jsonlib

    from typer.testing import CliRunner

    from agentaudit.cli import app

    trail = _trail(tmp_path / "trail.json", list(records(200)))
    db = tmp_path / "cli.duckdb"
    runs = []
    for _ in range(2):
        result = CliRunner().invoke(
            app, ["ingest", str(trail), "--db", str(db), "--jobs", "2", "--json"]
        )
        assert result.exit_code == 0, result.output
        runs.append(jsonlib.loads(result.output))
    assert [(r["ingested"], r["duplicate"], r["quarantined"]) for r in runs] == [
        (200, 0, 0),
        (0, 0, 0),
    ]
    assert small_units["chunks"] >= 5


def test_append_by_path_counts_new_rows_per_file_and_keeps_first_duplicate(store):
    from agentaudit.schema import new_event, to_arrow

    def event(key: str, path: str, seq: int) -> dict:
        return new_event("test.source", key, source_path=path, seq=seq, kind="other")

    assert store.append_events_by_path(to_arrow([event("a", "one", 0)])) == {"one": 1}
    batch = to_arrow(
        [
            event("a", "one", 1),  # already stored
            event("b", "one", 2),
            event("c", "two", 3),
            event("b", "two", 4),  # duplicate within the batch: the first row (seq 2) wins
        ]
    )
    assert store.append_events_by_path(batch) == {"one": 1, "two": 1}
    rows = store.rows("SELECT source_path, seq FROM events ORDER BY seq")
    assert rows == [
        {"source_path": "one", "seq": 0},
        {"source_path": "one", "seq": 2},
        {"source_path": "two", "seq": 3},
    ]


def test_bulk_append_holds_duckdb_memory_only_for_the_ingest(store):
    def limit() -> str:
        return store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    default = limit()
    with store.bulk_append():
        assert limit() == "244.1 MiB"  # 256 MB
    assert limit() == default != "244.1 MiB"
