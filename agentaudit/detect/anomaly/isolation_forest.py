"""Windows the IsolationForest finds anomalous, explained by their most deviating features.

Scores every 10 s window (with its 60 s context, see `agentaudit.model.features`) that starts
after the model's training window. Windows below the model's threshold (the trained
contamination) are merged per session while they follow each other within a minute; each run
becomes one finding, stamped at its first anomalous window. High when a window in it does harm
beyond anything the baseline did (a risk feature above the baseline's maximum), else medium. No trained model: no findings (train with `agentaudit model
train`); a model that does not fit this code is refused (`ModelRefused`).
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agentaudit.detect.anomaly.features import FEATURES, event_ids_of_windows, window_features
from agentaudit.detect.anomaly.forest import TrainedModel, load
from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.store import Store

MODEL_ENV = "AGENTAUDIT_MODEL"
MERGE_GAP = timedelta(seconds=60)


class IsolationForestDetector(Detector):
    info = DetectorInfo(
        id="model-isolation-forest",
        title="Anomalous activity window (IsolationForest)",
        severity="medium",
        kind="model",
        description="A session's 10 s / 60 s activity window the IsolationForest trained on the "
        "store's baseline isolates as an outlier.",
    )

    def __init__(
        self,
        model: TrainedModel | None = None,
        model_path: Path | None = None,
        since: datetime | None = None,
    ) -> None:
        self._model = model
        self._model_path = model_path or (
            Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else None
        )
        self._since = since

    def query(self) -> str:
        return ""  # scored in Python: see run()

    def run(self, store: Store) -> list[dict[str, Any]]:
        model = self._model or load(self._model_path)
        if model is None:
            return []
        since = self._since or datetime.fromisoformat(model.metadata["training_window"]["until"])
        frame = window_features(store, since=since, baseline=model.baseline)
        if frame.empty:
            return []
        frame["score"] = model.score(frame)
        anomalous = frame[frame["score"] < 0].sort_values(["owner", "window_start"])
        ids = event_ids_of_windows(
            store, list(zip(anomalous["owner"], anomalous["window_start"], strict=True))
        )
        return [self._finding(row) for row in _runs(anomalous, model, ids)]

    def title(self, evidence: dict[str, Any]) -> str:
        top = ", ".join(f"{d['feature']}={d['value']:g}" for d in evidence["explanation"])
        return f"Anomalous activity (score {evidence['score']:.3f}): {top}"


def _runs(anomalous: pd.DataFrame, model: TrainedModel, ids: dict) -> list[dict[str, Any]]:
    """Anomalous windows (sorted by owner, then time) merged while they follow within MERGE_GAP."""
    if anomalous.empty:
        return []
    owners = anomalous["owner"].to_numpy()
    new_run = np.ones(len(anomalous), dtype=bool)
    new_run[1:] = owners[1:] != owners[:-1]
    new_run |= (anomalous["window_start"].diff() > MERGE_GAP).to_numpy()
    bounds = [*np.flatnonzero(new_run), len(anomalous)]
    scores = anomalous["score"].to_numpy()
    harmful = model.beyond(anomalous).sum(axis=1) > 0
    values = anomalous[list(FEATURES)].to_numpy(np.float64)
    first_times, last_times = anomalous["first_time"].tolist(), anomalous["last_time"].tolist()
    windows = [pd.Timestamp(w) for w in anomalous["window_start"]]
    out = []
    for first, end in itertools.pairwise(bounds):
        owner = owners[first]
        worst = first + int(np.argmin(scores[first:end]))
        out.append(
            {
                "session_key": None if owner.startswith("principal:") else owner,
                "finding_key": f"{owner}@{windows[first].isoformat()}",
                "event_ids": list(
                    dict.fromkeys(e for w in windows[first:end] for e in ids.get((owner, w), []))
                ),
                "first_seen": first_times[first],
                "last_seen": last_times[end - 1],
                "severity": "high" if harmful[first:end].any() else "medium",
                "evidence": {
                    "owner": owner,
                    "score": float(scores[worst]),
                    "windows": end - first,
                    "worst_window": windows[worst].isoformat(),
                    "explanation": model.explain_values(values[worst]),
                    "model_trained_at": model.metadata["trained_at"],
                },
            }
        )
    return out
