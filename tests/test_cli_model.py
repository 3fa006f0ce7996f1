"""`agentaudit model train` then `agentaudit detect` with the model, through the real CLI."""

from __future__ import annotations

import json

import pytest

from agentaudit.detect.anomaly import forest
from agentaudit.detect.anomaly.synthetic import SessionGenerator
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store
from tests.cli_helpers import run_cli


@pytest.mark.slow  # trains the model
def test_train_then_detect_scores_new_windows(tmp_path):
    db, model = str(tmp_path / "s.duckdb"), str(tmp_path / "m.skops")
    with Store.open(db) as store:
        store.append_events(list(SessionGenerator(seed=3).sessions(120)))
    trained = json.loads(
        run_cli(
            "model",
            "train",
            "--db",
            db,
            "--model",
            model,
            "--until",
            "2026-04-01T00:00:00+00:00",
            "--json",
        )
    )
    assert trained["training_window"]["until"] == "2026-04-01T00:00:00+00:00"
    assert trained["training_windows"] > 500
    run_cli("ingest", *[str(p) for p in scenario_files("pocketos")], "--db", db)
    detected = json.loads(run_cli("detect", "--db", db, "--json", env={"AGENTAUDIT_MODEL": model}))
    assert "model-isolation-forest" in {f["rule_id"] for f in detected["findings"]}
    assert detected["refused"] == []
    info = json.loads(run_cli("model", "info", "--model", model, "--json"))
    assert info["contamination"] == forest.DEFAULT_CONTAMINATION and "baseline_programs" not in info


def test_train_on_an_empty_period_fails_clearly(tmp_path):
    db = str(tmp_path / "s.duckdb")
    Store.open(db).close()
    output = run_cli("model", "train", "--db", db, "--model", tmp_path / "m.skops", code=2)
    assert "windows in the training period" in output
