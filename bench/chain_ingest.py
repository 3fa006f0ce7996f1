"""What the tamper-evident chain costs ingest: the same ingest with the chain on and off.

    python -m bench.chain_ingest [--records 100000] [--mb 30] [--rounds 4]

Inputs: `bench.cloudtrail_ingest.write_file(records)` (one generated Records document) and
`bench.transcript_ingest.generate(mb)` (generated Claude Code transcripts). Each run is that
benchmark's own `--side ours --jobs 2` (workers collect and enrich, the parent appends and
closes) in a fresh process on a fresh store; `AGENTAUDIT_CHAIN=0` is the baseline. Sides alternate within each round so
the machine's load falls on both alike; reported: the median of the per-round ratios of
wall seconds (throughput) and of CPU seconds. After the last chained CloudTrail run, `verify` on
that store is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import run_side
from bench.results import write_section

JOBS = "2"  # the default on the 2-core machine the results were measured on


def _ingest(module: str, data: Path, db: Path, chain: bool) -> dict:
    os.environ["AGENTAUDIT_CHAIN"] = "1" if chain else "0"
    db.unlink(missing_ok=True)
    return run_side(module, "--side", "ours", "--data", str(data), "--db", str(db), "--jobs", JOBS)


def _verify_seconds(db: Path) -> tuple[float, bool]:
    os.environ["AGENTAUDIT_CHAIN"] = "1"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "agentaudit"), "verify", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, json.loads(proc.stdout)["clean"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--mb", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    from bench import cloudtrail_ingest, transcript_ingest

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-chain-") as tmp:
        work = Path(tmp)
        os.environ["AGENTAUDIT_HOME"] = str(work / "home")
        trail = work / "trail.json"
        cloudtrail_ingest.write_file(args.records, trail)
        inputs = {
            f"CloudTrail, {args.records:,} records": ("bench.cloudtrail_ingest", trail),
            f"Claude Code transcripts, {args.mb} MB": (
                "bench.transcript_ingest",
                transcript_ingest.generate(args.mb),
            ),
        }
        runs: dict[str, dict[bool, list[dict]]] = {name: {False: [], True: []} for name in inputs}
        for round_ in range(args.rounds):
            for name, (module, data) in inputs.items():
                order = (False, True) if round_ % 2 == 0 else (True, False)
                for chain in order:
                    result = _ingest(module, data, work / "store.duckdb", chain)
                    runs[name][chain].append(result)
                    print(name, "chain" if chain else "off", result, file=sys.stderr)
        verify_s, clean = _verify_seconds(work / "store.duckdb")  # the last: transcripts
        module, data = inputs[next(iter(inputs))]
        _ingest(module, data, work / "ct.duckdb", True)
        ct_verify_s, ct_clean = _verify_seconds(work / "ct.duckdb")
        load = f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    write_section("chain", _report(args, runs, (ct_verify_s, ct_clean), (verify_s, clean), load))


def _report(args, runs, ct_verify, tr_verify, load: str) -> str:  # type: ignore[no-untyped-def]
    lines = [
        "## The tamper-evident chain's cost to ingest (issue 23)",
        "",
        f"`python -m bench.chain_ingest --records {args.records} --mb {args.mb} --rounds "
        f"{args.rounds}`: each input ingested by its benchmark's `--side ours --jobs {JOBS}` in a fresh "
        "process and store, with the chain on (default) and off (`AGENTAUDIT_CHAIN=0`), sides "
        "alternating within each round; the time includes closing the store (its seal and signed "
        f"checkpoint). {load}.",
        "",
        "| input | rows | CPU s off | CPU s chain | wall s off | wall s chain | median CPU ratio "
        "chain / off | median wall ratio |",
        "|---|---:|---|---|---|---|---:|---:|",
    ]
    verdicts = []
    for name, sides in runs.items():
        off, on = sides[False], sides[True]
        cpu_ratio = statistics.median(b["cpu"] / a["cpu"] for a, b in zip(off, on, strict=True))
        wall_ratio = statistics.median(
            b["seconds"] / a["seconds"] for a, b in zip(off, on, strict=True)
        )
        verdicts.append((name, cpu_ratio, wall_ratio))

        def column(results: list[dict], field: str) -> str:
            return " ".join(f"{r[field]:.2f}" for r in results)

        lines.append(
            f"| {name} | {on[0]['rows']:,} | {column(off, 'cpu')} | {column(on, 'cpu')} | "
            f"{column(off, 'seconds')} | {column(on, 'seconds')} | {cpu_ratio:.3f} | "
            f"{wall_ratio:.3f} |"
        )
    lines += [
        "",
        "Target (the chain costs at most 10% of ingest throughput): "
        + "; ".join(
            f"{name}: CPU {cpu:.3f} ({'met' if cpu <= 1.10 else 'not met'}), wall {wall:.3f} "
            f"({'met' if wall <= 1.10 else 'not met'})"
            for name, cpu, wall in verdicts
        )
        + ". Wall times move with the shared machine's load; CPU seconds are the steadier "
        "measure of what the chain adds.",
        "",
        f"`agentaudit verify` (a fresh process: recompute every link, checkpoint and row) on the "
        f"chained CloudTrail store: {ct_verify[0]:.1f} s, clean: {ct_verify[1]}; on the "
        f"transcripts store: {tr_verify[0]:.1f} s, clean: {tr_verify[1]}.",
        "",
        "Why one link per append batch and not per row: a batch's rows are turned into their "
        "canonical text in one DuckDB statement per append batch (`to_json(struct_pack(...))`, "
        "a column NULL in the whole batch written as the literal NULL: the same text, a fifth "
        "less work), its result streamed 4,096 rows at a time (a statement per 4,096-row slice "
        "cost a quarter more CPU), "
        "hashed with hashlib straight from the Arrow buffers, their Merkle root computed in "
        "Python (two SHA-256 calls a row), and one `chain` row written per batch. A link per "
        "row would add a stored row and a sequential prev-hash step per event, while the batch "
        "root already names each row and gives it an inclusion proof. Where the cost goes, on "
        "20,000 of these CloudTrail rows in one process: the canonical text about 75% (DuckDB "
        "`to_json` over about 45 columns; `json_strip_nulls` on top, dropped, cost a third "
        "more), SHA-256 15% (hashlib with the CPU's SHA extensions: DuckDB's `sha256` took 4 "
        "times as long), the Merkle root under 10% (measured before the two changes above).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
