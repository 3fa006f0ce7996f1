"""Train, save, load and score the IsolationForest over window features.

The model file is a skops archive; its metadata (feature names, scikit-learn version,
training window, contamination, what the baseline had seen, feature means and spreads for
explanations) sits beside it as JSON. A model whose feature set or scikit-learn version differs
from this code's is refused, never used.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio
from sklearn.ensemble import IsolationForest

from agentaudit import paths
from agentaudit.detect.anomaly.features import (
    _FAR_FUTURE,
    _FAR_PAST,
    FEATURES,
    LONG_WINDOW_SECONDS,
    RISK_FEATURES,
    WINDOW_SECONDS,
    Baseline,
    baseline_of,
    window_features,
)
from agentaudit.detect.base import DetectorRefused
from agentaudit.store import Store, now

# The forest alone flags the 0.1% most isolated windows of a baseline like the training one.
DEFAULT_CONTAMINATION = 0.001
# The forest's decision lies within +-0.5: a risk feature one whole unit beyond the baseline
# outranks any window within the baseline's range of harm.
BEYOND_RANGE_WEIGHT = 1.0
WARM_UP = 0.1
N_ESTIMATORS = 100  # scikit-learn's default; scoring time is linear in it
SCORING_THREADS = 2  # this machine's cores; more only adds switching
MODEL_FORMAT = 2  # 2: context and risk features, out-of-range term on risk features only
_TRUSTED = ["sklearn.tree._tree.Tree"]  # the only non-default type an IsolationForest holds


class ModelRefused(DetectorRefused):
    """The saved model does not fit this code (feature set, format or scikit-learn version)."""


# Counts enter the forest as log(1 + n): a burst of 11 ordinary calls should not look further
# from normal than the first destructive call of a kind never seen before.
_NOT_COUNTS = {"production_share", "error_rate", "hour_sin", "hour_cos", "severity_max"}
_RISK = np.array([name in RISK_FEATURES for name in FEATURES])
_COUNTS = np.array([name not in _NOT_COUNTS for name in FEATURES])
_ORDINAL = np.array([name == "severity_max" for name in FEATURES])


def model_matrix(frame: pd.DataFrame) -> np.ndarray:
    # filled column by column in Fortran order: contiguous writes (column_stack is 10x slower)
    matrix = np.empty((len(frame), len(FEATURES)), order="F")
    for j, name in enumerate(FEATURES):
        values = frame[name].to_numpy(np.float64)
        matrix[:, j] = np.log1p(values) if _COUNTS[j] else values
    return matrix


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
        meta = self.metadata
        return Baseline(
            meta["baseline_programs"], meta["baseline_credentials"], meta["baseline_commands"]
        )

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """decision_function, lowered by how far the window's harm lies beyond the baseline's.

        Below 0 is an outlier. A tree never splits on a feature the baseline did not vary (no
        outside-project delete ever), so "more harm than anything the baseline saw" is added
        explicitly: BEYOND_RANGE_WEIGHT per risk feature, in units of the feature's baseline
        range, at most 1 each. Context features (volume, novelty, time) count only through the
        forest: a busy or unfamiliar window is unusual, not by itself dangerous.
        """
        matrix = model_matrix(frame)
        # halves of the windows scored in threads: a tree's descent releases the GIL
        halves = np.array_split(matrix, SCORING_THREADS) if len(matrix) > 10_000 else [matrix]
        with ThreadPoolExecutor(len(halves)) as pool:
            forest = np.concatenate(list(pool.map(self.forest.decision_function, halves)))
        return forest - BEYOND_RANGE_WEIGHT * self._beyond(matrix).sum(axis=1)

    def beyond(self, frame: pd.DataFrame) -> np.ndarray:
        """Per window and feature: how far above the baseline's maximum (0 for context)."""
        out = np.zeros((len(frame), len(FEATURES)))
        out[:, _RISK] = self._beyond(model_matrix(frame))
        return out

    def _beyond(self, matrix: np.ndarray) -> np.ndarray:
        """Per window and risk feature, in units of the baseline's range, at most 1 each."""
        high = np.array(self.metadata["matrix_max"])[_RISK]
        low = np.array(self.metadata["matrix_min"])[_RISK]
        # ordinal severity: each rank above the baseline's highest is one whole unit
        span = np.where(_ORDINAL[_RISK], 1.0, np.maximum(high - low, 1.0))
        return np.clip((matrix[:, _RISK] - high) / span, 0, 1)

    def explain(self, row: pd.Series, top: int = 3) -> list[dict[str, Any]]:
        """The features that deviate most from the training windows.

        A risk feature beyond the baseline's maximum ranks first (it lowered the score
        directly), then any other feature beyond it, then by standard deviations from the
        baseline mean.
        """
        return self.explain_values(np.array([row[n] for n in FEATURES], np.float64), top)

    def explain_values(self, values: np.ndarray, top: int = 3) -> list[dict[str, Any]]:
        """`explain` for one window's FEATURES values, in FEATURES order."""
        meta = self.metadata
        mean = np.array([meta["feature_mean"][n] for n in FEATURES])
        spread = np.array([meta["feature_std"][n] for n in FEATURES])
        highest = np.array([meta["feature_max"][n] for n in FEATURES])
        z = np.divide(values - mean, spread, out=np.zeros_like(values), where=spread != 0)
        beyond = values > highest
        order = np.lexsort((-np.abs(z), ~beyond, ~(beyond & _RISK)))[:top]
        return [
            {
                "feature": FEATURES[i],
                "value": round(float(values[i]), 3),
                "baseline_mean": round(float(mean[i]), 3),
                "baseline_max": round(float(highest[i]), 3),
                "beyond_baseline": bool(beyond[i]),
                "risk": bool(_RISK[i]),
                "z": round(float(z[i]), 1),
            }
            for i in order
        ]


def train(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    contamination: float = DEFAULT_CONTAMINATION,
    random_state: int = 0,
) -> TrainedModel:
    """Fit on the windows of the baseline period [since, until) of the store.

    The first WARM_UP share of the period only seeds what has been "seen before": otherwise
    every program's first appearance at the start of the history would look like novelty.
    """
    bounds = store.con.sql(
        "SELECT min(time), max(time) FROM events WHERE time >= $since AND time < $until",
        params={"since": since or _FAR_PAST, "until": until or _FAR_FUTURE},
    ).fetchall()[0]
    if bounds[0] is None:
        raise ValueError("only 0 windows in the training period; need at least 10")
    start, end = since or bounds[0], until or bounds[1] + timedelta(microseconds=1)
    warm_end = start + (end - start) * WARM_UP
    frame = window_features(store, warm_end, end, baseline_of(store, start, warm_end))
    # a fixed row order: with a fixed random_state the same store gives the same model
    frame = frame.sort_values(["owner", "window_start"], ignore_index=True)
    if len(frame) < 10:
        raise ValueError(f"only {len(frame)} windows in the training period; need at least 10")
    matrix = model_matrix(frame)
    forest = IsolationForest(
        n_estimators=N_ESTIMATORS, contamination=contamination, random_state=random_state
    ).fit(matrix)
    baseline = baseline_of(store, start, end)
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
        "training_window": {"since": start.isoformat(), "until": end.isoformat()},
        "warm_up_until": warm_end.isoformat(),
        "training_windows": len(frame),
        "feature_mean": {n: float(frame[n].mean()) for n in FEATURES},
        "matrix_min": matrix.min(axis=0).tolist(),
        "matrix_max": matrix.max(axis=0).tolist(),
        "beyond_range_weight": BEYOND_RANGE_WEIGHT,
        "risk_features": list(RISK_FEATURES),
        "feature_std": {n: float(frame[n].std(ddof=0)) for n in FEATURES},
        "feature_max": {n: float(frame[n].max()) for n in FEATURES},
        "baseline_programs": baseline.programs,
        "baseline_credentials": baseline.credentials,
        "baseline_commands": baseline.commands,
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
