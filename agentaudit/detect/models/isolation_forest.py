"""Windows the IsolationForest finds anomalous, explained by their most deviating features.

Scores every 10 s window (with its 60 s context, see `agentaudit.model.features`) that starts
after the model's training window. Windows below the model's threshold (the trained
contamination) are merged per session while they follow each other within a minute; each run
becomes one finding, stamped at its first anomalous window. High when a window in it holds a
destructive event, else medium. No trained model: no findings (train with `agentaudit model
train`); a model that does not fit this code is refused (`ModelRefused`).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.model.features import event_ids_of_windows, window_features
from agentaudit.model.forest import TrainedModel, load
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
    out: list[dict[str, Any]] = []
    for owner, group in anomalous.groupby("owner", sort=False):
        run: list[pd.Series] = []
        for _, row in group.iterrows():
            if run and row["window_start"] - run[-1]["window_start"] > MERGE_GAP:
                out.append(_finding_row(owner, run, model, ids))
                run = []
            run.append(row)
        if run:
            out.append(_finding_row(owner, run, model, ids))
    return out


def _finding_row(
    owner: str, run: list[pd.Series], model: TrainedModel, ids: dict
) -> dict[str, Any]:
    worst = min(run, key=lambda r: r["score"])
    session = None if owner.startswith("principal:") else owner
    return {
        "session_key": session,
        "finding_key": f"{owner}@{run[0]['window_start'].isoformat()}",
        "event_ids": list(
            dict.fromkeys(
                e for r in run for e in ids.get((owner, pd.Timestamp(r["window_start"])), [])
            )
        ),
        "first_seen": run[0]["first_time"],
        "last_seen": run[-1]["last_time"],
        "severity": "high" if any(r["destructive"] > 0 for r in run) else "medium",
        "evidence": {
            "owner": owner,
            "score": float(worst["score"]),
            "windows": len(run),
            "worst_window": worst["window_start"].isoformat(),
            "explanation": model.explain(worst),
            "model_trained_at": model.metadata["trained_at"],
        },
    }
