import json

import pytest
import sklearn

from agentaudit.detect.anomaly import forest
from agentaudit.detect.anomaly.features import FEATURES
from agentaudit.detect.anomaly.isolation_forest import IsolationForestDetector
from agentaudit.detect.anomaly.synthetic import SessionGenerator
from agentaudit.detect.driver import run_detection
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

POCKETOS_SESSION = "8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained on generated normal work (March 2026), saved and loaded back."""
    directory = tmp_path_factory.mktemp("model")
    with Store.open(directory / "s.duckdb") as store:
        store.append_events(list(SessionGenerator(seed=7).sessions(150)))
        model = forest.train(store)
    path = forest.save(model, directory / "m.skops")
    return path, directory


def test_saved_with_its_metadata_and_loaded_back(trained):
    path, _ = trained
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["features"] == list(FEATURES)
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["contamination"] == forest.DEFAULT_CONTAMINATION
    assert meta["training_window"]["since"].startswith("2026-03")
    assert meta["training_windows"] > 1000
    assert "git" in meta["baseline_programs"]
    loaded = forest.load(path)
    assert loaded.metadata == meta


def test_the_incident_window_after_the_baseline_is_an_explained_model_finding(trained, tmp_path):
    path, _ = trained
    with Store.open(tmp_path / "s.duckdb") as store:
        store.append_events(list(SessionGenerator(seed=7).sessions(150)))
        ingest_paths(store, scenario_files("pocketos"))
        report = run_detection(store, [IsolationForestDetector(model_path=path)])
    [finding] = [
        f
        for f in report.findings
        if f["session_id"] == POCKETOS_SESSION and str(f["first_seen"]) >= "2026-04-24 19:23:41"
    ]
    assert finding["kind"] == "model" and finding["severity"] == "high"
    assert str(finding["first_seen"]).startswith("2026-04-24 19:23:4")
    assert len(finding["event_ids"]) >= 6
    explanation = json.loads(finding["evidence"])["explanation"]
    assert explanation[0]["beyond_baseline"] and explanation[0]["feature"] in FEATURES
    assert {"destructive", "remote_destructive"} & {e["feature"] for e in explanation}
    # only windows after the training window are scored: the baseline itself raises nothing
    assert all(str(f["first_seen"]) >= "2026-04" for f in report.findings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"features": [*FEATURES[:-1], "gpu_minutes"]}, "another feature set"),
        ({"sklearn_version": "0.24.2"}, "trained with scikit-learn 0.24.2"),
        # a model of the first feature set (format 1, before context and risk features)
        ({"format": 1}, "model format 1"),
    ],
)
def test_a_model_from_another_feature_set_or_version_is_refused(trained, tmp_path, change, message):
    path, _ = trained
    copy = tmp_path / "m.skops"
    copy.write_bytes(path.read_bytes())
    meta = json.loads(path.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps({**meta, **change}))
    with pytest.raises(forest.ModelRefused, match=message):
        forest.load(copy)
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, scenario_files("pocketos"))
        report = run_detection(store, [IsolationForestDetector(model_path=copy)])
    assert report.findings == []
    assert (
        len(report.refused) == 1 and "Retrain it with `agentaudit model train`" in report.refused[0]
    )


def test_no_model_trained_means_no_model_findings(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, scenario_files("pocketos"))
        report = run_detection(store, [IsolationForestDetector(model_path=tmp_path / "none.skops")])
    assert report.findings == [] and report.refused == []
