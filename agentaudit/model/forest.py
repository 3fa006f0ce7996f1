"""Train, save, load and score the IsolationForest over window features.

The model file is a skops archive; its metadata (feature names, scikit-learn version,
training window, contamination, what the baseline had seen, feature means and spreads for
explanations) sits beside it as JSON. A model whose feature set or scikit-learn version differs
from this code's is refused, never used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio
from sklearn.ensemble import IsolationForest

from agentaudit import paths
from agentaudit.model.features import (
    FEATURES,
    LONG_WINDOW_SECONDS,
    WINDOW_SECONDS,
    Baseline,
    baseline_of,
    window_features,
)
from agentaudit.store import Store, now

DEFAULT_CONTAMINATION = 0.005
N_ESTIMATORS = 200
MODEL_FORMAT = 1
_TRUSTED = ["sklearn.tree._tree.Tree"]  # the only non-default type an IsolationForest holds


class ModelRefused(Exception):
    """The saved model does not fit this code (feature set, format or scikit-learn version)."""


def default_model_path() -> Path:
    return paths.home() / "model" / "isolation_forest.skops"


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


@dataclass
class TrainedModel:
    forest: IsolationForest
    metadata: dict[str, Any]

    @property
    def baseline(self) -> Baseline:
        return Baseline(self.metadata["baseline_programs"], self.metadata["baseline_credentials"])

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """decision_function: below 0 is an outlier at the trained contamination."""
        return self.forest.decision_function(frame[list(FEATURES)].to_numpy())

    def explain(self, row: pd.Series, top: int = 3) -> list[dict[str, float]]:
        """The features that deviate most from the training windows, in standard deviations."""
        mean, spread = self.metadata["feature_mean"], self.metadata["feature_std"]
        deviations = []
        for name in FEATURES:
            value = float(row[name])
            deviation = (value - mean[name]) / (spread[name] or 1.0)
            deviations.append(
                {"feature": name, "value": value, "baseline_mean": mean[name], "z": deviation}
            )
        deviations.sort(key=lambda d: abs(d["z"]), reverse=True)
        return [
            {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}
            for d in deviations[:top]
        ]


def train(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    contamination: float = DEFAULT_CONTAMINATION,
    random_state: int = 0,
) -> TrainedModel:
    """Fit on every window of the baseline period [since, until) of the store."""
    frame = window_features(store, since, until)
    if len(frame) < 10:
        raise ValueError(f"only {len(frame)} windows in the training period; need at least 10")
    matrix = frame[list(FEATURES)].to_numpy()
    forest = IsolationForest(
        n_estimators=N_ESTIMATORS, contamination=contamination, random_state=random_state
    ).fit(matrix)
    baseline = baseline_of(store, since, until)
    metadata = {
        "format": MODEL_FORMAT,
        "model": "sklearn.ensemble.IsolationForest",
        "features": list(FEATURES),
        "window_seconds": WINDOW_SECONDS,
        "long_window_seconds": LONG_WINDOW_SECONDS,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "contamination": contamination,
        "n_estimators": N_ESTIMATORS,
        "training_window": {
            "since": (since or frame["first_time"].min()).isoformat(),
            "until": (until or frame["last_time"].max()).isoformat(),
        },
        "training_windows": len(frame),
        "feature_mean": {n: float(frame[n].mean()) for n in FEATURES},
        "feature_std": {n: float(frame[n].std(ddof=0)) for n in FEATURES},
        "baseline_programs": baseline.programs,
        "baseline_credentials": baseline.credentials,
        "trained_at": now().isoformat(),
    }
    return TrainedModel(forest, metadata)


def save(model: TrainedModel, path: Path | None = None) -> Path:
    path = path or default_model_path()
    paths.ensure_private_dir(path.parent)
    with paths.private_umask():
        sio.dump(model.forest, path)
        metadata_path(path).write_text(json.dumps(model.metadata, indent=2), encoding="utf-8")
    return path


def load(path: Path | None = None) -> TrainedModel | None:
    """The saved model, None when none was trained; ModelRefused when it does not fit."""
    path = path or default_model_path()
    meta_file = metadata_path(path)
    if not path.exists() or not meta_file.exists():
        return None
    metadata = json.loads(meta_file.read_text(encoding="utf-8"))
    problems = []
    if metadata.get("format") != MODEL_FORMAT:
        problems.append(
            f"model format {metadata.get('format')} (this agentaudit reads {MODEL_FORMAT})"
        )
    if metadata.get("features") != list(FEATURES):
        theirs, ours = set(metadata.get("features") or []), set(FEATURES)
        problems.append(
            "another feature set (missing: "
            f"{sorted(ours - theirs) or '-'}, unknown: {sorted(theirs - ours) or '-'}, or reordered)"
        )
    if metadata.get("sklearn_version") != sklearn.__version__:
        problems.append(
            f"trained with scikit-learn {metadata.get('sklearn_version')}, "
            f"this is {sklearn.__version__}"
        )
    if problems:
        raise ModelRefused(
            f"refusing the model at {path}: {'; '.join(problems)}. "
            "Retrain it with `agentaudit model train`."
        )
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in _TRUSTED]
    if untrusted:
        raise ModelRefused(f"refusing the model at {path}: unexpected types {untrusted}")
    forest = sio.load(path, trusted=_TRUSTED)
    return TrainedModel(forest, metadata)
