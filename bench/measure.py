"""Run one side of a benchmark in its own process: wall time and peak RSS are its own."""

from __future__ import annotations

import json
import subprocess
import sys


def run_side(module: str, *args: str) -> dict:
    """`python -m <module> <args>` must print one JSON object (its measurements) last."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (worker pools)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def children_peak_rss_mb() -> float:
    """The largest peak RSS of any finished child process (0 without children)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
