"""The IsolationForest on the incident replays mixed into benign background.

    python -m bench.model_eval [--train-sessions N] [--background-sessions N] [--seed S ...]

Per seed S. Training store: generated normal sessions only (seed S). Test store: the real
corpus files today's collectors read, other generated normal sessions (seed S+1), and every
scenario replay's readable files. Every (session, 10 s) window of the test store is scored.
Positive windows: a scenario's windows that hold a destructive event, or the step the scenario
declares as its first destructive one (`first_destructive`, and `same_step_contains` for the
same step as another source logs it), from the nth match on in each source file. Negatives
(the benign background): the corpus's transcripts and shell histories and the generated
sessions. The corpus's provider audit logs (attack simulations, labeled destruction tests) and
the scenarios' other windows are neither; "strict" figures count them as negatives too.
Compared side by side with a naive ranker (destructive events in the window's 60 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from bench.results import write_section

TOP = 10
# Provider audit logs in the corpus are security datasets: attack simulations (Stratus Red
# Team, "attacker" principals) and detection-rule test cases of destruction (SOURCES.md), not
# ordinary work; they are scored and reported apart from the benign background.
AUDIT_CORPUS_DIRS = ("cloudtrail", "gcp", "azure", "k8s", "github")


def _corpus() -> Path:
    import os

    repo = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("AGENTAUDIT_CORPUS", repo.parent / "shared" / "corpus"))


def build_test_store(store, seed: int, background: int) -> dict[str, set[str]]:
    """Fill the test store; return, per scenario, the event ids of its incident steps."""
    from agentaudit.detect.anomaly.synthetic import SessionGenerator
    from agentaudit.detect.link import link_events
    from agentaudit.ingest import ingest_paths
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
        if declared:  # from the nth match on, in each source file that logs the step
            for text in [declared["command_contains"], *spec.get("same_step_contains", [])]:
                rows = store.rows(
                    "SELECT event_id, source_path FROM events WHERE source_path LIKE ? "
                    "AND contains(command, ?) ORDER BY time, seq",
                    [prefix, text],
                )
                for path in {r["source_path"] for r in rows}:
                    in_file = [r for r in rows if r["source_path"] == path]
                    ids |= {r["event_id"] for r in in_file[declared.get("nth", 1) - 1 :]}
        incident[name] = ids
    link_events(store)
    return incident


def evaluate(train_sessions: int, background: int, seed: int) -> dict:
    from agentaudit.detect.anomaly import forest
    from agentaudit.detect.anomaly.features import window_features, windows_of_events
    from agentaudit.detect.anomaly.synthetic import SessionGenerator
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
            from agentaudit.detect.anomaly.features import OWNER_SQL
            from agentaudit.scenarios import SCENARIOS_DIR

            # one origin per owner, the most specific first (linking can join sources)
            origin = dict(
                store.con.sql(
                    f"""SELECT {OWNER_SQL},
                               CASE WHEN bool_or(source_path LIKE $scenarios) THEN 'scenario'
                                    WHEN bool_or(regexp_matches(source_path, $audit))
                                        THEN 'audit corpus'
                                    WHEN bool_or(source_path LIKE $corpus) THEN 'corpus'
                                    ELSE 'generated' END
                        FROM event_sessions GROUP BY ALL""",
                    params={
                        "scenarios": f"{SCENARIOS_DIR}/%",
                        "corpus": f"{_corpus()}/%",
                        "audit": f"^{_corpus()}/({'|'.join(AUDIT_CORPUS_DIRS)})/",
                    },
                ).fetchall()
            )
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
    frame["origin"] = frame["owner"].map(origin).fillna("generated")
    positive = frame["scenario"].notna()
    benign = frame["origin"].isin(["corpus", "generated"])
    audit = frame["origin"] == "audit corpus"
    result = {
        "windows": len(frame),
        "positives": int(positive.sum()),
        "benign": int(benign.sum()),
        "benign_corpus": int((frame["origin"] == "corpus").sum()),
        "audit_windows": int(audit.sum()),
        "other_scenario_windows": int((~positive & (frame["origin"] == "scenario")).sum()),
        "train_windows": model.metadata["training_windows"],
        "train_seconds": train_seconds,
        "threshold_alarms": {
            kind: int(((frame["origin"] == kind) & ~positive & (frame["score"] < 0)).sum())
            for kind in ("corpus", "generated", "audit corpus")
        },
    }
    # main figures: scenario windows against the benign background; strict: every other
    # window (the audit corpus's attack simulations and the scenarios' other windows) negative
    result["main"] = _rank(frame[positive | benign], model, incident)
    result["strict"] = _rank(frame, model, incident)
    audit_ranked = frame[positive | benign | audit].sort_values("score").reset_index(drop=True)
    result["audit_in_top"] = int((audit_ranked.head(TOP)["origin"] == "audit corpus").sum())
    return result


def _rank(frame: pd.DataFrame, model, incident: dict) -> dict:
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
        "auc": float(roc_auc_score(y, -frame["score"].to_numpy())),
        "precision_top": float(top["scenario"].notna().mean()),
        "best_rank": best_rank,
        "naive_auc": float(roc_auc_score(y, naive)),
        "naive_precision_top": float(naive_top["scenario"].notna().mean()),
        "top_rows": top[["owner", "window_start", "score", "scenario", "origin"]].to_dict(
            "records"
        ),
        "top_origin": [
            row["scenario"]
            if isinstance(row["scenario"], str)
            else f"{row['origin']} window, no incident step"
            for _, row in top.iterrows()
        ],
        "explanations": {
            name: model.explain(ranked[ranked["scenario"] == name].iloc[0])
            for name in incident
            if (ranked["scenario"] == name).any()
        },
    }


def _explained(explanation: list[dict]) -> str:
    return ", ".join(
        f"{e['feature']} {e['value']:g} "
        + (
            f"(beyond baseline max {e['baseline_max']:g})"
            if e["beyond_baseline"]
            else f"(z {e['z']:+.1f})"
        )
        for e in explanation
    )


def _all_in_top(ranked: dict) -> bool:
    return all(rank is not None and rank <= TOP for rank in ranked["best_rank"].values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-sessions", type=int, default=600)
    parser.add_argument("--background-sessions", type=int, default=600)
    parser.add_argument("--seed", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    runs = {
        seed: evaluate(args.train_sessions, args.background_sessions, seed) for seed in args.seed
    }
    command = (
        f"python -m bench.model_eval --train-sessions {args.train_sessions} "
        f"--background-sessions {args.background_sessions} --seed {' '.join(map(str, args.seed))}"
    )
    first_seed = args.seed[0]
    r = runs[first_seed]
    seeds_table = "\n".join(
        f"| {seed} | {x['main']['auc']:.4f} | {x['main']['precision_top']:.1f} | "
        f"{'yes' if _all_in_top(x['main']) else 'no'} | "
        + ", ".join(f"{n} {k}" for n, k in sorted(x["main"]["best_rank"].items()))
        + f" | {x['threshold_alarms']['corpus']} / {x['benign_corpus']:,} | "
        f"{x['threshold_alarms']['generated']} / {x['benign'] - x['benign_corpus']:,} | "
        f"{x['strict']['auc']:.4f} | {x['strict']['precision_top']:.1f} | {x['audit_in_top']} |"
        for seed, x in runs.items()
    )
    ranks = "\n".join(
        f"| {name} | {rank if rank else '-'} | {_explained(r['main']['explanations'].get(name, []))} |"
        for name, rank in sorted(r["main"]["best_rank"].items())
    )
    body = f"""## IsolationForest on incident replays in benign background (issue 6)

`{command}`

Per seed S: trained on {args.train_sessions} generated normal sessions (seed S; {r["train_windows"]:,}
windows for seed {first_seed}, fit in {r["train_seconds"]:.1f} s). Scored: every (session, 10 s) window
of a store holding the real corpus files today's collectors read, {args.background_sessions} other
generated sessions (seed S+1) and the 6 scenario replays ({r["windows"]:,} windows for seed {first_seed}).
Positive: a scenario window holding an incident step (a destructive event, or the step the
scenario declares, as every source logs it): {r["positives"]}. Benign background (the
negatives): the corpus's transcripts and shell histories ({r["benign_corpus"]:,} windows) and the
generated sessions. Left out of the negatives: the scenarios' other windows
({r["other_scenario_windows"]}) and the corpus's provider audit logs ({r["audit_windows"]:,} windows of
{", ".join(AUDIT_CORPUS_DIRS)}: attack simulations and labeled destruction test cases, not
ordinary work); "strict" counts both as negatives too. A naive ranker (destructive events in the
window's 60 s) is scored on the same windows, side by side.

| seed | ROC AUC | precision at top {TOP} | every scenario in top {TOP} | best window rank per scenario | false alarms (score < 0): corpus | generated | strict AUC | strict precision at {TOP} | audit-corpus windows in top {TOP} |
|---|---:|---:|---|---|---:|---:|---:|---:|---:|
{seeds_table}

Naive ranker, seed {first_seed}: ROC AUC {r["main"]["naive_auc"]:.4f}, precision at top {TOP}
{r["main"]["naive_precision_top"]:.1f}. Alarms are windows under the model's own threshold (score
below 0, the trained contamination); the detector merges consecutive ones into one finding.

Seed {first_seed}, the top {TOP} in order: {"; ".join(r["main"]["top_origin"])}.

| scenario | best window rank (seed {first_seed}) | most deviating features there |
|---|---:|---|
{ranks}
"""
    write_section("model_eval", body)
    sys.stdout.write(body)
    pd.set_option("display.width", 200)
    sys.stdout.write(pd.DataFrame(r["main"]["top_rows"]).to_string() + "\n")


if __name__ == "__main__":
    main()
