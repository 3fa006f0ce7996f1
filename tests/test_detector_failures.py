"""A refused model and a detector that raises, in real processes: `agentaudit detect` (text and
`--json`) and `agentaudit watch` (its log and /healthz) both name each with its reason, and
the other detectors still find and page.

The refused model is a model file whose metadata says it was trained by another
scikit-learn: the same refusal a real upgrade meets (the archive itself is never read).
The raising detector is a fault injected into the child process only (a `sitecustomize`
module on its PYTHONPATH replaces one built-in detector's `run` with one that raises):
nothing here can make a built-in detector fail on real data on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agentaudit.detect.anomaly.features import FEATURES
from agentaudit.ingest import ingest_paths
from agentaudit.realtime.watch.harness import WatchProcess, free_port, wait_for, write_config
from agentaudit.realtime.watch.replay import pocketos_records, replay
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

BROKEN = "delete-outside-project"
FAULT = f'''"""Fault injected by tests/test_detector_failures.py into this process only."""
from agentaudit.detect.behaviours.delete_outside_project import DeleteOutsideProject


def _raise(self, store):
    raise RuntimeError("injected fault: {BROKEN} cannot run")


DeleteOutsideProject.run = _raise
'''


@pytest.fixture
def faulty_env(tmp_path) -> dict[str, str]:
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(FAULT)
    model = tmp_path / "model" / "isolation_forest.skops"
    model.parent.mkdir()
    model.write_bytes(b"never read: the metadata refuses it first")
    metadata = {"format": 2, "features": list(FEATURES), "sklearn_version": "0.24.2"}
    model.with_suffix(".json").write_text(json.dumps(metadata))
    path = os.pathsep.join(p for p in (str(inject), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "AGENTAUDIT_MODEL": str(model)}


def assert_both_named(failures: list[dict]) -> None:
    by_id = {f["detector"]: f for f in failures}
    assert by_id["model-isolation-forest"]["kind"] == "refused"
    assert "trained with scikit-learn 0.24.2" in by_id["model-isolation-forest"]["reason"]
    assert by_id[BROKEN]["kind"] == "error"
    assert "RuntimeError: injected fault" in by_id[BROKEN]["reason"]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    code = "from agentaudit.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_detect_reports_both_and_stores_the_other_findings(tmp_path, faulty_env):
    for name in ("json.duckdb", "text.duckdb"):
        with Store.open(tmp_path / name) as store:
            ingest_paths(store, scenario_files("pocketos"))
    done = cli(faulty_env, "detect", "--db", str(tmp_path / "json.duckdb"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert_both_named(report["detector_failures"])
    rules = {f["rule_id"] for f in report["findings"]}
    assert {"destructive-provider-http", "data-and-backups-destroyed"} <= rules
    assert report["findings_new"] == len(report["findings"])

    done = cli(faulty_env, "detect", "--db", str(tmp_path / "text.duckdb"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    text = " ".join(done.stdout.split())  # (rich wraps long lines)
    assert "refused: model-isolation-forest: refusing the model at" in text
    assert f"error: {BROKEN}: RuntimeError: injected fault" in text
    assert "new findings" in text


def test_watch_logs_both_lists_them_in_healthz_and_still_pages(tmp_path, faulty_env):
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    with LocalReceiver() as receiver:
        config = write_config(
            tmp_path / "watch.yaml",
            db=str(tmp_path / "watch.duckdb"),
            paths=[str(logs)],
            notify=[receiver.url()],
            health={"port": port},
            guard=None,
            poll_seconds=0.2,
            settle_seconds=1,
        )
        watch = WatchProcess(config, port, faulty_env)
        with watch:
            replay(logs, pocketos_records(), speed=50, max_gap=0.01)
            assert wait_for(lambda: len(receiver.received) >= 1, timeout=30), watch.log.read_text()[
                -4000:
            ]
            named = wait_for(lambda: len(watch.health()[1]["detector_failures"]) == 2, timeout=15)
            health = watch.health()
            assert watch.terminate() == 0
    assert named is not None, health
    assert health[0] == 200 and health[1]["findings"] >= 1
    assert_both_named(health[1]["detector_failures"])
    log = watch.log.read_text()
    assert "detector model-isolation-forest: refused: refusing the model at" in log
    assert f"detector {BROKEN}: error: RuntimeError: injected fault" in log
    assert "Traceback" not in log
    # logged once each, not once per pass
    assert log.count(f"detector {BROKEN}: error") == 1
    assert any(r["body"]["title"].startswith("[CRITICAL]") for r in receiver.received)
