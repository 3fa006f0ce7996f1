"""What SigmaHQ's own rules cost beside the built-in pack (issue 20).

    python -m bench.sigmahq_rules [--repeat R]

The store: the corpus files of tests/data/sigmahq (CloudTrail, GCP, Azure, Kubernetes, GitHub,
shell histories; $AGENTAUDIT_CORPUS, else ../shared/corpus). Each side runs `run_rules` (one
scan) in its own process on the same store: the built-in pack (baseline), and the built-in pack
plus the 41 SigmaHQ rules of tests/data/sigmahq/rules, whose fields are paths read from each
provider record's JSON (`raw`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import run_side
from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
SIGMAHQ = REPO / "tests" / "data" / "sigmahq"


def _corpus() -> Path:
    return Path(os.environ.get("AGENTAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))


def build(db: Path) -> int:
    from agentaudit.ingest import ingest_paths
    from agentaudit.store import Store

    spec = importlib.util.spec_from_file_location("derive", SIGMAHQ / "derive_expected.py")
    assert spec and spec.loader
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    paths = [derive.corpus_path(_corpus(), rel) for e in derive.SOURCES.values() for rel, *_ in e]
    with Store.open(db) as store:
        ingest_paths(store, paths)
        return store.count("events")


def side(db: Path, with_sigmahq: bool, repeat: int) -> dict:
    from agentaudit.detect.sigma.loader import BUILTIN_DIR, load_rules
    from agentaudit.detect.sigma.run import run_rules
    from agentaudit.store import Store

    ruleset = load_rules([BUILTIN_DIR, *([SIGMAHQ / "rules"] if with_sigmahq else [])])
    times, findings = [], 0
    with Store.open(db) as store:
        for _ in range(repeat):
            started = time.perf_counter()
            found, errors = run_rules(store, ruleset)
            times.append(time.perf_counter() - started)
            assert errors == [], errors
            findings = len(found)
    return {"seconds": statistics.median(times), "findings": findings, "rules": len(ruleset.rules)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--side", choices=["pack", "pack_sigmahq"])
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(Path(args.db), args.side == "pack_sigmahq", args.repeat)))
        return
    if not _corpus().is_dir():
        sys.stdout.write(f"bench.sigmahq_rules: no corpus at {_corpus()} (set AGENTAUDIT_CORPUS)\n")
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.duckdb"
        events = build(db)
        common = ["--db", str(db), "--repeat", str(args.repeat)]
        pack = run_side("bench.sigmahq_rules", "--side", "pack", *common)
        both = run_side("bench.sigmahq_rules", "--side", "pack_sigmahq", *common)
    body = f"""## SigmaHQ rules beside the built-in pack (issue 20)

`python -m bench.sigmahq_rules --repeat {args.repeat}`: a store of {events:,} events (the corpus
files of tests/data/sigmahq). Each side runs `run_rules` (one scan) in its own process, median of
{args.repeat} runs.

| rules | count | findings | seconds |
|---|---:|---:|---:|
| built-in pack (baseline) | {pack["rules"]} | {pack["findings"]:,} | {pack["seconds"]:.2f} |
| built-in pack + SigmaHQ rules | {both["rules"]} | {both["findings"]:,} | {both["seconds"]:.2f} |

**Ratio (with SigmaHQ / pack alone): {both["seconds"] / pack["seconds"]:.1f}x.** A SigmaHQ
rule's fields are mostly paths in the provider's record: each such field it tests is a JSON
parse of `raw` (`try(json_extract_string(raw, ...))`; `eventName`, `eventSource` and GitHub's
`action` are read from the columns the collectors keep them in); the built-in pack reads
columns only.
"""
    write_section("sigmahq_rules", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
