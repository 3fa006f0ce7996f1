"""How long `agentaudit --help` (and `--version`, and the hook through the CLI) take, against the
floor of any typer CLI over DuckDB: a bare `python -c "import typer, rich, duckdb"`.

`python -m bench.cli_startup [--runs N]` runs the commands N times each, interleaved so that
load on the shared machine falls on every side alike, and reports medians and the ratio to the
floor. Target (issue 20): `--help` at most 2x the floor.
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

from bench.results import write_section

PAYLOAD = json.dumps(
    {"session_id": "bench", "hook_event_name": "PreToolUse", "tool_name": "Bash",
     "tool_input": {"command": "npm test"}, "cwd": "/home/dev/app"}
).encode()  # fmt: skip
FLOOR = 'floor: `python -c "import typer, rich, duckdb"`'


def commands() -> dict[str, list[str]]:
    cli = str(Path(sys.executable).with_name("agentaudit"))
    return {
        FLOOR: [sys.executable, "-c", "import typer, rich, duckdb"],
        "`agentaudit --help`": [cli, "--help"],
        "`agentaudit --version`": [cli, "--version"],
        "`agentaudit hook claude-code` (payload on stdin)": [cli, "hook", "claude-code"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {name: [] for name in commands()}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AGENTAUDIT_HOME": home, "COLUMNS": "100"}
        for _ in range(args.runs):
            for name, command in commands().items():
                started = time.perf_counter()
                subprocess.run(command, input=PAYLOAD, env=env, check=True, capture_output=True)
                timings[name].append((time.perf_counter() - started) * 1000)
    floor = statistics.median(timings[FLOOR])
    rows = []
    for name, values in timings.items():
        median = statistics.median(values)
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        rows.append(f"| {name} | {median:.0f} | {p90:.0f} | {median / floor:.2f}x |")
    ratio = statistics.median(timings["`agentaudit --help`"]) / floor
    load = os.getloadavg()[0]
    body = f"""## CLI start-up (issue 20)

`python -m bench.cli_startup --runs {args.runs}`: each command run {args.runs} times, interleaved,
wall time from process start to exit (the hook appends a real PreToolUse payload to a hook log
in a temporary AGENTAUDIT_HOME). Floor: a process that only imports what every command needs.

| command | median ms | p90 ms | × floor |
|---|---:|---:|---:|
{chr(10).join(rows)}

**`agentaudit --help` / floor: {ratio:.2f}x** (target: at most 2x). Commands import what they need
when they run (tests/test_cli_startup.py checks that `--help`, `--version` and `hook` load no
scikit-learn, skops, pandas, pyarrow, pySigma, apprise or Streamlit). Load average
{load:.1f} on the shared machine during the run.
"""
    write_section("cli_startup", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
