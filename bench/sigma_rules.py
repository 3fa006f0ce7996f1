"""The Sigma rule pack's cost: one query per rule against one scan for the whole pack.

    python -m bench.sigma_rules [--events N] [--window W] [--repeat R]

The store: generated normal sessions (`agentaudit.model.synthetic`) up to N events, plus every
scenario replay, linked as `agentaudit detect` links them. Each side runs in its own process on
the same store (read only: findings are not stored). Timed: `run_rules` on the whole store,
and on a watch-sized window (the last W events, shadowing `events` with a TEMP view as
`agentaudit.detect.window` does). Loading the pack (YAML, JSON Schema, pySigma) is timed
apart: the detector caches it per process while the rule files are unchanged.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import peak_rss_mb, run_side
from bench.results import write_section


def build(db: Path, events: int) -> dict:
    from agentaudit.detect.anomaly.synthetic import SessionGenerator
    from agentaudit.detect.link import link_events
    from agentaudit.ingest import ingest_paths
    from agentaudit.scenarios import scenario_path
    from agentaudit.scenarios.replay import load_spec, scenario_names
    from agentaudit.store import Store

    generator = SessionGenerator(seed=11)
    with Store.open(db) as store:
        batch, number, total = [], 0, 0
        while total < events:
            batch += list(generator.session(number))
            number += 1
            if len(batch) >= 50_000 or total + len(batch) >= events:
                total += store.append_events(batch[: events - total])
                batch = []
        for name in scenario_names():
            ingest_paths(store, [scenario_path(name) / f["name"] for f in load_spec(name)["files"]])
        link_events(store)
        return {"events": store.count("events"), "sessions": number}


def _timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def side(db: Path, strategy: str, window: int, repeat: int) -> dict:
    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.run import OneScan, run_rules
    from agentaudit.store import Store

    one_scan = strategy == "one_scan"
    started = time.perf_counter()
    ruleset = load_rules()
    load_seconds = time.perf_counter() - started
    with Store.open(db) as store:
        started = time.perf_counter()
        if one_scan:
            OneScan.of(ruleset)  # the SQL, built once per pack
        compile_seconds = time.perf_counter() - started

        def run():
            findings, errors = run_rules(store, ruleset, one_scan=one_scan)
            assert errors == [], errors
            return sorted(f["finding_id"] for f in findings)

        full_seconds, full_ids = _timed(run, repeat)
        store.con.execute(
            "CREATE OR REPLACE TEMP TABLE window_events AS "
            f"SELECT * FROM main.events ORDER BY time DESC LIMIT {window}"
        )
        store.con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM window_events")
        window_seconds, window_ids = _timed(run, max(repeat, 5))
    return {
        "load_seconds": load_seconds,
        "compile_seconds": compile_seconds,
        "full_seconds": full_seconds,
        "window_seconds": window_seconds,
        "full_findings": full_ids,
        "window_findings": window_ids,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["per_rule", "one_scan"])
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(Path(args.db), args.side, args.window, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.duckdb"
        built = build(db, args.events)
        common = ["--db", str(db), "--window", str(args.window), "--repeat", str(args.repeat)]
        per_rule = run_side("bench.sigma_rules", "--side", "per_rule", *common)
        one_scan = run_side("bench.sigma_rules", "--side", "one_scan", *common)
    same = (
        per_rule["full_findings"] == one_scan["full_findings"]
        and per_rule["window_findings"] == one_scan["window_findings"]
    )
    rows = [
        ("whole store", "full_seconds"),
        (f"watch-sized window ({args.window:,} events)", "window_seconds"),
    ]
    table = "\n".join(
        f"| {label} | {per_rule[key]:.3f} | **{one_scan[key]:.3f}** | "
        f"{per_rule[key] / one_scan[key]:.1f}x |"
        for label, key in rows
    )
    body = f"""## Sigma rule pack: one query per rule vs one scan (issue 5)

`python -m bench.sigma_rules --events {args.events} --window {args.window} --repeat {args.repeat}`:
a store of {built["events"]:,} events ({built["sessions"]:,} generated normal sessions and the
scenario replays, linked). Each side runs `agentaudit.detect.sigma.run.run_rules` over the built-in
pack in its own process (per rule: `one_scan=False`, each rule converted and run as its own
query, the engine before this change; one scan: `OneScan`) (median of {args.repeat} runs; the window median of at least 5), on the
whole store and on the last {args.window:,} events shadowing `events` through a TEMP view as
the watch service does.

| run | one query per rule (s) | one scan (s) | ratio |
|---|---:|---:|---:|
{table}

Same findings on both sides: **{"yes" if same else "NO"}** ({len(one_scan["full_findings"]):,} on
the whole store, {len(one_scan["window_findings"]):,} in the window). Loading the pack (YAML,
JSON Schema validation, pySigma parsing) takes {one_scan["load_seconds"]:.2f} s and building the
one-scan SQL {one_scan["compile_seconds"]:.2f} s; `SigmaRules` does both once per process
(`load_rules_cached`, `OneScan.of`) while the rule files are unchanged, so watch passes after
the first pay only the run. Before, `SigmaRules.run` loaded the pack and converted every rule
on each call, so one detection (or one watch pass) paid the load plus the per-rule column.
Peak RSS: per rule {per_rule["peak_rss_mb"]:.0f} MB, one scan {one_scan["peak_rss_mb"]:.0f} MB.
"""
    write_section("sigma_rules", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
