"""The IsolationForest on the incident replays mixed into benign background.

    python -m bench.model_eval [--train-sessions N] [--background-sessions N] [--seed S]

Training store: generated normal sessions only (seed S). Test store: the real corpus files
today's collectors read, other generated normal sessions (seed S+1), and every scenario
replay's readable files. Every (session, 10 s) window of the test store is scored.
Positive windows: a scenario session's windows that hold a destructive event (or the step the
scenario declares as its first destructive one). Compared side by side with a naive ranker
(destructive events in the window's 60 s) on the same windows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from bench.results import write_section

TOP = 10


def _corpus() -> Path:
    import os

    repo = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("AGENTAUDIT_CORPUS", repo.parent / "shared" / "corpus"))


def build_test_store(store, seed: int, background: int) -> dict[str, set[str]]:
    """Fill the test store; return, per scenario, the event ids of its incident steps."""
    from agentaudit.ingest import ingest_paths
    from agentaudit.link import link_events
    from agentaudit.model.synthetic import SessionGenerator
    from agentaudit.scenarios import scenario_path
    from agentaudit.scenarios.replay import load_spec, scenario_names

    store.append_events(list(SessionGenerator(seed + 1).sessions(background, first=100_000)))
    corpus = _corpus()
    if corpus.is_dir():
        ingest_paths(store, sorted(p for p in corpus.rglob("*") if p.is_file()))
    incident: dict[str, set[str]] = {}
    for name in scenario_names():
        spec = load_spec(name)
        files = [scenario_path(name) / f["name"] for f in spec["files"]]
        ingest_paths(store, files)
        prefix = str(scenario_path(name)) + "/%"
        ids = {
            r["event_id"]
            for r in store.rows(
                "SELECT event_id FROM events WHERE source_path LIKE ? AND destructive", [prefix]
            )
        }
        declared = spec.get("first_destructive")
        if declared:
            rows = store.rows(
                "SELECT event_id FROM events WHERE source_path LIKE ? AND contains(command, ?) "
                "ORDER BY time, seq",
                [prefix, declared["command_contains"]],
            )
            ids |= {r["event_id"] for r in rows[declared.get("nth", 1) - 1 :]}
        incident[name] = ids
    link_events(store)
    return incident


def evaluate(train_sessions: int, background: int, seed: int) -> dict:
    from agentaudit.model import forest
    from agentaudit.model.features import window_features, windows_of_events
    from agentaudit.model.synthetic import SessionGenerator
    from agentaudit.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp) / "train.duckdb") as train_store:
            train_store.append_events(list(SessionGenerator(seed).sessions(train_sessions)))
            started = time.perf_counter()
            model = forest.train(train_store)
            train_seconds = time.perf_counter() - started
        with Store.open(Path(tmp) / "test.duckdb") as store:
            incident = build_test_store(store, seed, background)
            frame = window_features(store, baseline=model.baseline)
            from agentaudit.model.features import OWNER_SQL
            from agentaudit.scenarios import SCENARIOS_DIR

            origin = {
                owner: kind
                for owner, kind in store.con.sql(
                    f"""SELECT DISTINCT {OWNER_SQL},
                               CASE WHEN source_path LIKE $scenarios THEN 'scenario session'
                                    WHEN source_path LIKE $corpus THEN 'real corpus file'
                                    ELSE 'generated session' END
                        FROM event_sessions""",
                    params={"scenarios": f"{SCENARIOS_DIR}/%", "corpus": f"{_corpus()}/%"},
                ).fetchall()
            }
            label_of = {
                window: name
                for name, ids in incident.items()
                for window in windows_of_events(store, sorted(ids))
            }
    frame["score"] = model.score(frame)
    frame["scenario"] = [
        label_of.get((owner, pd.Timestamp(w)))
        for owner, w in zip(frame["owner"], frame["window_start"], strict=True)
    ]
    y = frame["scenario"].notna().to_numpy()
    ranked = frame.sort_values(["score", "owner", "window_start"]).reset_index(drop=True)
    top = ranked.head(TOP)
    naive = frame["destructive_60s"].to_numpy() + 1e-6 * frame["events_60s"].to_numpy()
    naive_top = frame.assign(n=naive).sort_values("n", ascending=False).head(TOP)
    best_rank = {
        name: int(ranked.index[ranked["scenario"] == name].min()) + 1
        if (ranked["scenario"] == name).any()
        else None
        for name in incident
    }
    return {
        "windows": len(frame),
        "positives": int(y.sum()),
        "auc": float(roc_auc_score(y, -frame["score"].to_numpy())),
        "precision_top": float(top["scenario"].notna().mean()),
        "scenarios_in_top": sorted(top["scenario"].dropna().unique()),
        "best_rank": best_rank,
        "naive_auc": float(roc_auc_score(y, naive)),
        "naive_precision_top": float(naive_top["scenario"].notna().mean()),
        "train_windows": model.metadata["training_windows"],
        "train_seconds": train_seconds,
        "top_rows": top[["owner", "window_start", "score", "scenario"]].to_dict("records"),
        "top_origin": [
            row["scenario"]
            if isinstance(row["scenario"], str)
            else f"{origin.get(row['owner'], '?')}, no destructive step"
            for _, row in top.iterrows()
        ],
        "explanations": {
            name: model.explain(ranked[ranked["scenario"] == name].iloc[0])
            for name in incident
            if (ranked["scenario"] == name).any()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-sessions", type=int, default=600)
    parser.add_argument("--background-sessions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    r = evaluate(args.train_sessions, args.background_sessions, args.seed)
    command = (
        f"python -m bench.model_eval --train-sessions {args.train_sessions} "
        f"--background-sessions {args.background_sessions} --seed {args.seed}"
    )
    ranks = "\n".join(
        f"| {name} | {rank if rank else '-'} | "
        + ", ".join(
            f"{e['feature']} {e['value']:g} "
            + (
                f"(beyond baseline max {e['baseline_max']:g})"
                if e["beyond_baseline"]
                else f"(z {e['z']:+.1f})"
            )
            for e in r["explanations"].get(name, [])
        )
        + " |"
        for name, rank in sorted(r["best_rank"].items())
    )
    all_in_top = all(rank is not None and rank <= TOP for rank in r["best_rank"].values())
    body = f"""## IsolationForest on incident replays in benign background (issue 6)

`{command}`

Trained on {args.train_sessions} generated normal sessions ({r["train_windows"]:,} windows, fit in
{r["train_seconds"]:.1f} s). Scored: {r["windows"]:,} windows of the real corpus files today's collectors read,
{args.background_sessions} other generated normal sessions and the {len(r["best_rank"])} scenario replays;
{r["positives"]} positive windows (a scenario session's window holding a destructive step).
Baseline, side by side: a naive ranker by destructive events in the window's 60 s.

| scorer | ROC AUC | precision at top {TOP} |
|---|---:|---:|
| IsolationForest | **{r["auc"]:.4f}** | **{r["precision_top"]:.1f}** |
| destructive events in 60 s | {r["naive_auc"]:.4f} | {r["naive_precision_top"]:.1f} |

Every scenario with a window in the top {TOP}: **{"yes" if all_in_top else "no"}**. The top {TOP}, in order:
{"; ".join(r["top_origin"])}.

| scenario | best window rank | most deviating features there |
|---|---:|---|
{ranks}
"""
    write_section("model_eval", body)
    sys.stdout.write(body)
    pd.set_option("display.width", 200)
    sys.stdout.write(pd.DataFrame(r["top_rows"]).to_string() + "\n")
    np.set_printoptions(precision=3)


if __name__ == "__main__":
    main()
