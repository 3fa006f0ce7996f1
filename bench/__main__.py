"""`python -m bench`: run every benchmark and rewrite its section of bench/RESULTS.md."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = [
    "bench.store_append",
    "bench.store_format",
    "bench.analyst",
    "bench.command_analysis",
    "bench.command_corpus",
    "bench.command_labelled",
    "bench.sigma_rules",
    "bench.sigmahq_rules",
    "bench.hook_latency",
    "bench.cli_startup",
    "bench.transcript_ingest",
    "bench.export_formats",
    "bench.cloudtrail_ingest",
    "bench.model_eval",
    "bench.detect_1m",
    "bench.realtime",
    "bench.guard",
    "bench.otlp_serve",
    "bench.damaged_input",
    "bench.provider_catalog",
]

if __name__ == "__main__":
    for name in BENCHMARKS:
        sys.argv = [name]
        importlib.import_module(name).main()
