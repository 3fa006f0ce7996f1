"""`python -m tests.fuzzing [--per-collector N] [--jobs J] [--only NAME ...]`: the bounded
campaign. Prints inputs, outputs and failures per target; exits 1 on any failure."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from agentaudit.collectors import all_collectors
from tests.fuzzing.run import ANALYSER, Tally, run_task
from tests.fuzzing.seeds import all_seeds

CHUNK = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzzing")
    parser.add_argument("--per-collector", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    seeds = all_seeds()
    targets = [t for t in [*all_collectors(), ANALYSER] if not args.only or t in args.only]
    missing = [t for t in targets if t != ANALYSER and not seeds.get(t)]
    targets = [t for t in targets if t not in missing]
    tasks = [
        (target, chunk, min(CHUNK, args.per_collector - chunk * CHUNK))
        for target in targets
        for chunk in range((args.per_collector + CHUNK - 1) // CHUNK)
    ]
    totals = {t: Tally(t) for t in targets}
    started = time.monotonic()
    # spawn, not fork: a worker forked from the pool's threads deadlocked on a held lock;
    # futures, not Pool: a worker that dies (a crash in C) fails its chunk instead of hanging
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:  # no max_tasks: 3.11 hangs
        futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            target, seed, count = futures[future]
            try:
                tally = future.result()
            except BrokenProcessPool as exc:
                tally = Tally(target, inputs=count, crashes=1)
                tally.note("worker died", f"{target} seed {seed}", str(exc))
            totals[tally.target].add(tally)
            print(f"  {tally.target}: {totals[tally.target].inputs} inputs", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(
        f"{'target':28} {'seeds':>5} {'inputs':>8} {'events':>9} {'quarant.':>9} "
        f"{'crash':>5} {'hang':>4} {'unstor.':>7} {'silent':>6} {'slowest s':>9}"
    )
    for target, tally in totals.items():
        print(
            f"{target:28} {len(seeds.get(target, ())):>5} {tally.inputs:>8} {tally.events:>9} "
            f"{tally.quarantined:>9} {tally.crashes:>5} {tally.hangs:>4} {tally.unstorable:>7} "
            f"{tally.silent:>6} {tally.slowest:>9.2f}"
        )
        for example in tally.examples:
            print(f"    {example}")
    failures = sum(t.failures for t in totals.values())
    print(
        f"{sum(t.inputs for t in totals.values())} inputs, {failures} failures, "
        f"{elapsed:.0f} s on {args.jobs} processes"
    )
    if missing:
        print(f"no sample for: {', '.join(missing)}")
    return 1 if failures or missing else 0


if __name__ == "__main__":
    sys.exit(main())
