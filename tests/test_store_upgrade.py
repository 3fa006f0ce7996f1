"""A store written by an earlier agentaudit, with that release's own code, opened by this one.

Each old store is made by the code of a commit in this repository's history (`git archive`
into a temporary directory, run there in a subprocess with this venv): b98b613, the last
layout before stores carried a version, and ab8cfce, whose `events` has 39 columns (the
store on which the unversioned code failed: "table events has 39 columns but 45 values were
supplied"). Each store is ingested into, detected on and alerted from by the old CLI, with a
real HTTP receiver on 127.0.0.1 for its pages. This code then migrates it once, keeps every row,
and `ingest`, `detect`, `alert run` and a read-only `query` work on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from io import BytesIO
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.store import migrations, tables

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from agentaudit.cli import main; main()"]

# Runs a list of CLI invocations with the old code, in one process (each costs seconds to
# start); a failing one fails the build of the store.
OLD_CLI_DRIVER = textwrap.dedent(
    """
    import json, sys
    from agentaudit.cli import app
    for argv in json.loads(sys.argv[1]):
        try:
            app(argv, standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    """
)

PREVIOUS_LAYOUTS = {
    # commit: the old CLI commands run on its store ({db}, {files}, {bad}, {url}, {out} filled in)
    "b98b613": [
        "ingest {files} --db {db} --jobs 1",
        "ingest {bad} --source cursor.hooks --db {db}",
        "detect --notify {url} --db {db}",
        "alert run --db {db}",
        "silence add --match rule_id=audit-tamper --for 2h --comment maintenance --by t --db {db}",
        "export --out {out} --db {db}",
    ],
    "ab8cfce": [
        "ingest {files} --db {db}",
        "ingest {bad} --source cursor.hooks --db {db}",
        "detect --notify {url} --db {db}",
        "export --out {out} --db {db}",
    ],
}


def old_code(commit: str, into: Path) -> Path:
    """The commit's agentaudit and collectors packages, as files (git archive; no worktree)."""
    try:
        subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {commit} is not in this clone (a shallow clone?): no old code to run")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "agentaudit", "collectors"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def build_old_store(commit: str, tmp: Path) -> Path:
    code = old_code(commit, tmp / f"agentaudit-{commit}")
    db = tmp / f"{commit}.duckdb"
    bad = tmp / "bad-hooks.jsonl"
    bad.write_bytes(b'{"not json\n')  # one bad record: quarantined
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTAUDIT_")}
    env |= {"AGENTAUDIT_HOME": str(tmp / "old-home"), "PYTHONPATH": str(code)}
    with LocalReceiver() as receiver:
        fill = {
            "{db}": str(db),
            "{bad}": str(bad),
            "{url}": receiver.url(),
            "{out}": str(tmp / "export.ndjson"),
        }
        commands = []
        for command in PREVIOUS_LAYOUTS[commit]:
            expanded: list[str] = []
            for arg in command.split():
                if arg == "{files}":
                    expanded += [str(p) for p in scenario_files("pocketos")]
                else:
                    expanded.append(fill.get(arg, arg))
            commands.append(expanded)
        result = subprocess.run(
            [sys.executable, "-c", OLD_CLI_DRIVER, json.dumps(commands)],
            cwd=code,  # the old packages come first on sys.path
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert receiver.received, "the old code paged nobody"
    return db


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = tables.layout(con)
        return {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in names
        }
    finally:
        con.close()


def run_new(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTAUDIT_")}
    env["AGENTAUDIT_HOME"] = str(home)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module", params=sorted(PREVIOUS_LAYOUTS))
def old_store(request, tmp_path_factory) -> Path:
    return build_old_store(request.param, tmp_path_factory.mktemp(f"old-{request.param}"))


def test_a_store_of_the_previous_layout_migrates_once_and_keeps_every_row(old_store, tmp_path):
    before = table_counts(old_store)
    assert migrations.VERSION_TABLE not in before  # made before versioning
    assert before["events"] > 0 and before["findings"] > 0 and before["alerts"] > 0
    assert before["quarantine"] == 1

    migrated = run_new("store", "migrate", "--db", str(old_store), home=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    lines = [line for line in migrated.stderr.splitlines() if "migrated" in line]
    assert len(lines) == 1, migrated.stderr
    assert f"migrated from schema version 0 to {migrations.LATEST}" in lines[0]
    assert "Traceback" not in migrated.stderr

    after = table_counts(old_store)
    kept = {name: after[name] for name in before}
    assert kept == before  # every row of every table the old store had
    added = set(after) - set(before) - {migrations.VERSION_TABLE}
    # the migration chains the rows it kept as its own links, signed when the store closes
    assert after.pop("chain") > 0 and after.pop("chain_checkpoints") == 1
    assert all(after[name] == 0 for name in added - {"chain", "chain_checkpoints"})
    con = duckdb.connect(str(old_store), read_only=True)
    try:
        layout = tables.layout(con)
        layout.pop(migrations.VERSION_TABLE)
        assert layout == tables.declared_layout()
        assert [row["version"] for row in migrations.history(con)] == [
            m.version for m in migrations.MIGRATIONS
        ]
    finally:
        con.close()


def test_ingest_detect_and_alert_work_on_a_migrated_store(old_store, monkeypatch):
    """The commands in this process (CliRunner): each real process start costs seconds here."""
    monkeypatch.delenv("AGENTAUDIT_NOTIFY", raising=False)
    before = table_counts(old_store)
    runner = CliRunner()
    db = ["--db", str(old_store)]
    more = [str(p) for p in scenario_files("home-rm-rf")]
    ingested = runner.invoke(app, ["ingest", *more, *db, "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert sum(f["ingested"] for f in json.loads(ingested.stdout)["files"]) > 0
    detected = runner.invoke(app, ["detect", *db, "--json"])
    assert detected.exit_code == 0, detected.output
    alerted = runner.invoke(app, ["alert", "run", *db, "--json"])
    assert alerted.exit_code == 0, alerted.output
    queried = runner.invoke(
        app, ["query", "SELECT count(*) AS n FROM event_sessions", *db, "--json"]
    )
    assert queried.exit_code == 0, queried.output
    after = table_counts(old_store)
    assert after["events"] > before["events"]
    assert after["findings"] > before["findings"]
    assert json.loads(queried.stdout)[0]["n"] == after["events"]
    for result in (ingested, detected, alerted, queried):
        assert "migrated" not in result.output  # once only, by the first command


def test_a_migrated_store_holds_the_columns_detection_reads(old_store, tmp_path):
    """The columns enrichment fills since schema version 2 are filled for the old rows as a new
    ingest of the same files fills them (origin, provider, argvs, env_clues, instructions)."""
    from agentaudit.enrich.secrets import Redactor, load_or_create_key
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store

    # the old store's own fingerprint key: redacted commands then read the same
    redactor = Redactor(load_or_create_key(old_store.parent / "old-home" / "fingerprint.key"))

    columns = "event_id, origin, provider, argvs, env_clues, instructions"
    with Store.open(old_store) as migrated:
        old = {r["event_id"]: r for r in migrated.rows(f"SELECT {columns} FROM events")}
    with Store.open(tmp_path / "fresh.duckdb") as fresh:
        ingest_paths(fresh, scenario_files("pocketos"), redactor=redactor)
        new = {r["event_id"]: r for r in fresh.rows(f"SELECT {columns} FROM events")}
    shared = sorted(set(old) & set(new))
    assert len(shared) >= len(new) - 1  # the same records (ids are deterministic)
    assert all(old[e]["origin"] for e in shared)
    assert {e: old[e] for e in shared} == {e: new[e] for e in shared}
    assert any(new[e]["argvs"] for e in shared) and any(new[e]["env_clues"] for e in shared)
