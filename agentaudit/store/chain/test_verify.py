"""`verify` on a real DuckDB file, tampered with the duckdb module the way an attacker would."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agentaudit.schema import new_event
from agentaudit.store import Store
from agentaudit.store.chain import merkle, proof, rows, signing, verify
from agentaudit.store.chain.writer import ChainWriter, leaf, link_fields, link_hash

REPO = Path(__file__).resolve().parents[3]
START = datetime(2026, 4, 25, 9, 0, tzinfo=UTC)


def _events(batch: int, size: int = 4):
    return [
        new_event(
            "shell.zsh",
            f"line-{batch}-{i}",
            command=f"rm -rf build/{batch}/{i}",
            time=START + timedelta(seconds=batch * 10 + i),
            seq=batch * 10 + i,
        )
        for i in range(size)
    ]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "store.duckdb"
    with Store.open(path) as store:
        for batch in range(3):
            store.append_events(_events(batch))
        store.con.execute(
            "INSERT INTO findings (finding_id, rule_id, severity, status) "
            "VALUES ('f1', 'destructive-burst', 'high', 'open')"
        )
    return path


def _verify(path: Path, anchor: Path | None = None) -> verify.VerifyReport:
    with Store.open(path, read_only=True) as store:
        return verify.verify(store.con, signing.load_or_create_key().public_key(), anchor)


def _kinds(report: verify.VerifyReport) -> set[tuple[str, str | None]]:
    return {(p.kind, p.table) for p in report.problems}


def _tamper(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for statement in statements:
            con.execute(statement)


def _event_ids(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY rowid").fetchall()]


def test_a_clean_store_is_clean_and_its_writes_are_chained_and_signed(db):
    report = _verify(db)
    assert report.clean, report.problems
    assert report.rows["events"] == 12 and report.rows["findings"] == 1
    assert report.links == 4 and report.checkpoints == 1  # 3 event batches + the sealed finding


def test_a_changed_column_is_named(db):
    victim = _event_ids(db)[5]
    _tamper(db, f"UPDATE events SET command = 'ls' WHERE event_id = '{victim}'")
    report = _verify(db)
    assert [(p.kind, p.table, p.key) for p in report.problems] == [("changed", "events", victim)]


def test_a_deleted_row_is_named(db):
    victim = _event_ids(db)[2]
    _tamper(db, f"DELETE FROM events WHERE event_id = '{victim}'")
    assert [(p.kind, p.key) for p in _verify(db).problems] == [("deleted", victim)]


def test_an_inserted_row_is_named(db):
    _tamper(db, "INSERT INTO events (event_id, source, command) VALUES ('forged', 'x', 'ls')")
    assert [(p.kind, p.key) for p in _verify(db).problems] == [("inserted", "forged")]


def test_a_copy_of_a_row_under_its_key_is_an_inserted_row(db):
    victim = _event_ids(db)[0]
    _tamper(db, f"INSERT INTO events SELECT * FROM events WHERE event_id = '{victim}'")
    assert [(p.kind, p.key) for p in _verify(db).problems] == [("inserted", victim)]


def test_swapped_rows_are_named(db):
    first, second = _event_ids(db)[3:5]
    _tamper(
        db,
        f"CREATE TEMP TABLE pair AS SELECT * FROM events WHERE event_id IN ('{first}', '{second}')",
        f"DELETE FROM events WHERE event_id IN ('{first}', '{second}')",
        f"INSERT INTO events SELECT * FROM pair WHERE event_id = '{second}'",
        f"INSERT INTO events SELECT * FROM pair WHERE event_id = '{first}'",
    )
    problems = _verify(db).problems
    assert problems and {p.kind for p in problems} == {"reordered"}
    assert {p.key for p in problems} <= {first, second}
    assert all(p.key not in _event_ids(db)[:3] for p in problems)


def test_a_truncated_table_is_named(db):
    _tamper(db, "DELETE FROM events")
    report = _verify(db)
    assert ("truncated", "events") in _kinds(report)
    assert sum(p.kind == "deleted" for p in report.problems) == 12


def test_a_cut_chain_is_named(db):
    _tamper(db, "DELETE FROM chain WHERE seq >= 3")
    kinds = {p.kind for p in _verify(db).problems}
    assert "truncated" in kinds and "inserted" in kinds  # the rows of the lost links


def test_a_replaced_checkpoint_is_named(db):
    _tamper(db, "UPDATE chain_checkpoints SET root_hash = repeat('ab', 32)")
    assert {p.kind for p in _verify(db).problems} == {"checkpoint"}


def test_a_checkpoint_signed_with_another_key_is_named(db):
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute("SELECT * FROM chain_checkpoints")
        row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
        signature = signing.sign(Ed25519PrivateKey.generate(), signing.statement(row))
        con.execute("UPDATE chain_checkpoints SET signature = ?", [signature])
    problems = _verify(db).problems
    assert [p.kind for p in problems] == ["checkpoint"] and "signature" in problems[0].detail


def test_an_unsigned_checkpoint_is_named(db):
    _tamper(db, "UPDATE chain_checkpoints SET signature = NULL")
    assert {p.kind for p in _verify(db).problems} == {"unsigned"}


def _forge_link(con: duckdb.DuckDBPyConnection, key: str, seq: int, prev: str) -> str:
    """A link for one forged events row with every hash computed as the writer would."""
    canonical = rows.canonical_sql(rows.columns(con, "events"), "t")
    (row_hash,) = con.execute(
        f"SELECT sha256({canonical}) FROM events t WHERE event_id = ?", [key]
    ).fetchone()
    root = merkle.root([leaf("events", key, row_hash)]).hex()
    at = datetime.now(UTC)
    new_hash = link_hash(prev, link_fields(seq, "events", "append", None, 1, root, at))
    con.execute(
        "INSERT INTO chain VALUES (?, 'events', 'append', NULL, [?], [?], ?, ?, ?, ?)",
        [seq, key, row_hash, root, prev, new_hash, at],
    )
    return new_hash


def test_a_forged_row_with_a_valid_looking_link_at_the_head_is_named(db):
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("INSERT INTO events (event_id, source, command) VALUES ('forged', 'x', 'ls')")
        seq, head = con.execute("SELECT max(seq), arg_max(link_hash, seq) FROM chain").fetchone()
        _forge_link(con, "forged", seq + 1, head)
    report = _verify(db)
    assert {p.kind for p in report.problems} == {"uncovered"}  # no signature vouches for it


def test_a_forged_row_with_a_valid_looking_link_inside_the_chain_is_named(db):
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("INSERT INTO events (event_id, source, command) VALUES ('forged', 'x', 'ls')")
        # insert after link 1 and rewrite every later link so that the chain adds up again
        links = con.execute("SELECT * FROM chain ORDER BY seq").fetchall()
        con.execute("DELETE FROM chain WHERE seq > 1")
        head = _forge_link(con, "forged", 2, links[0][8])
        for old in links[1:]:
            seq = old[0] + 1
            fields = link_fields(seq, old[1], old[2], old[3], len(old[4]), old[6], old[9])
            head_new = link_hash(head, fields)
            con.execute(
                "INSERT INTO chain VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, *old[1:7], head, head_new, old[9]],
            )
            head = head_new
    problems = _verify(db).problems
    # the old checkpoint no longer matches; the forged row also sits out of chain order
    assert {p.kind for p in problems} == {"checkpoint", "uncovered", "reordered"}
    assert any("no longer give its root" in p.detail for p in problems)


def test_a_change_outside_agentaudit_stays_reported_after_the_next_writer_seals(db):
    _tamper(db, "UPDATE findings SET status = 'resolved' WHERE finding_id = 'f1'")
    with Store.open(db):  # the next writer notices before writing, then seals and signs
        pass
    problems = _verify(db).problems
    assert [(p.kind, p.table, p.key) for p in problems] == [("changed", "findings", "f1")]
    assert "no agentaudit writer" in problems[0].detail


def test_our_own_updates_and_an_explained_rewrite_keep_the_store_clean(db):
    with Store.open(db) as store:
        store.con.execute("UPDATE findings SET status = 'resolved'")
        store.con.execute("INSERT INTO deliveries (delivery_id, ok) VALUES ('d1', true)")
        store.append_events(_events(7))
    with Store.open(db) as store, store.explained_change("reclassify", "rule pack 2026.12"):
        store.con.execute("UPDATE events SET severity = 'high'")
    report = _verify(db)
    assert report.clean, report.problems
    with duckdb.connect(str(db), read_only=True) as con:
        actions = {r[0] for r in con.execute("SELECT action FROM chain").fetchall()}
    assert actions == {"append", "write", "reclassify"}


def test_checkpoints_written_out_catch_a_rewritten_store(tmp_path, monkeypatch):
    anchor = tmp_path / "worm" / "checkpoints.jsonl"
    anchor.parent.mkdir()
    monkeypatch.setenv("AGENTAUDIT_CHECKPOINT_LOG", str(anchor))
    path = tmp_path / "store.duckdb"
    with Store.open(path) as store:
        store.append_events(_events(0))
    with Store.open(path) as store:
        store.append_events(_events(1))
    assert len(anchor.read_text().splitlines()) == 2
    assert _verify(path, anchor).clean
    # an attacker with the host's key rewrites a row, the chain and every checkpoint
    victim = _event_ids(path)[1]
    _tamper(
        path,
        f"UPDATE events SET command = 'ls' WHERE event_id = '{victim}'",
        "DELETE FROM chain",
        "DELETE FROM chain_checkpoints",
    )
    monkeypatch.delenv("AGENTAUDIT_CHECKPOINT_LOG")
    with Store.open(path) as store:
        writer = store.chain
        assert writer is not None
        writer.seal(rows.CHAINED, "append")
    assert _verify(path).clean  # the store alone now looks clean...
    problems = _verify(path, anchor).problems  # ...the anchored checkpoints do not agree
    kinds = {p.kind for p in problems}
    assert "anchor" in kinds and kinds <= {"anchor", "checkpoint", "truncated"}
    assert any("replaced in the store" in p.detail for p in problems)


def test_an_inclusion_proof_checks_with_the_standalone_script_and_the_public_key(db, tmp_path):
    victim = _event_ids(db)[6]
    with Store.open(db, read_only=True) as store:
        found = proof.inclusion_proof(store.con, victim)
    key_file = tmp_path / "public.pem"
    key_file.write_text(signing.public_pem(signing.load_or_create_key()))
    script = REPO / "tests" / "verify_proof_standalone.py"

    def run(document: dict) -> subprocess.CompletedProcess[str]:
        proof_file = tmp_path / "proof.json"
        proof_file.write_text(json.dumps(document))
        return subprocess.run(
            [sys.executable, "-I", str(script), str(proof_file), str(key_file)],
            capture_output=True,
            text=True,
            check=False,
        )

    ok = run(found)
    assert ok.returncode == 0 and ok.stdout.startswith(f"ok: events {victim}"), ok.stdout
    forged_row = found["row"].replace("rm -rf build", "ls build")
    assert run({**found, "row": forged_row}).returncode == 1
    forged_link = {**found, "link": {**found["link"], "action": "migration"}}
    assert run(forged_link).returncode == 1
    other_key = {**found["checkpoint"], "signature": "00" * 64}
    assert run({**found, "checkpoint": other_key}).returncode == 1


def test_a_store_with_the_chain_off_is_reported_unchained(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTAUDIT_CHAIN", "0")
    path = tmp_path / "store.duckdb"
    with Store.open(path) as store:
        store.append_events(_events(0))
        assert store.chain is None
    monkeypatch.delenv("AGENTAUDIT_CHAIN")
    assert {p.kind for p in _verify(path).problems} == {"inserted"}


def test_a_writer_chains_in_batches_not_rows(db):
    with Store.open(db) as store:
        before = store.count("chain")
        store.append_events(_events(9, size=500))
        assert store.count("chain") == before + 1
        assert isinstance(store.chain, ChainWriter)


def test_a_migration_is_chained_as_its_own_signed_links(db):
    # back to schema version 4, as a store made before the chain
    _tamper(
        db,
        "DROP TABLE chain",
        "DROP TABLE chain_checkpoints",
        "ALTER TABLE export_cursors DROP COLUMN checkpoint_no",
        "DROP TABLE reclassify_runs",  # migration 6's (reclassify)
        "DELETE FROM schema_version WHERE version >= 5",
    )
    with Store.open(db) as store:
        assert store.migration is not None and store.migration.migrated
    assert _verify(db).clean
    with duckdb.connect(str(db), read_only=True) as con:
        links = con.execute("SELECT DISTINCT action, note FROM chain").fetchall()
    assert [action for action, _note in links] == ["migration"]
    assert "to 5" in links[0][1] or "to 6" in links[0][1]


def test_the_signing_key_is_private_to_its_owner(db):
    assert signing.key_path().stat().st_mode & 0o777 == 0o600


def test_a_column_null_in_one_hashed_slice_only_still_verifies(tmp_path, monkeypatch):
    """Slices are hashed with their all-NULL columns as literals; the table is read whole."""
    import agentaudit.store.chain.writer as writer

    monkeypatch.setattr(writer, "HASH_SLICE_ROWS", 2)
    events = _events(0, size=5)
    for event in events[:2]:
        event["command"] = None  # NULL in the first slice, set in the others
    path = tmp_path / "slices.duckdb"
    with Store.open(path) as store:
        store.append_events(events)
        assert rows.differences(store.con, "events") == ([], [])
    report = _verify(path)
    assert report.clean, report.problems
