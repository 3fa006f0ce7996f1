"""How much time `agentaudit hook` adds to every agent tool call, against a bare interpreter.

`python -m bench.hook_latency [--runs N]` runs each command N times, alternating them, with a
real PreToolUse payload on stdin and a throwaway AGENTAUDIT_HOME, and reports the median and
p95 wall time of each. Baseline: `python -c pass`, the floor for any hook written in Python.
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
    {
        "session_id": "bench",
        "transcript_path": "/home/dev/.claude/projects/-home-dev-app/bench.jsonl",
        "cwd": "/home/dev/app",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "npm test", "description": "Run tests", "timeout": 120000},
        "tool_use_id": "toolu_01ABC123",
    }
).encode()


CONFIG_CHANGE = "`agentaudit-hook claude-code`, ConfigChange (reads the settings file)"


def config_change(settings: Path) -> bytes:
    """A ConfigChange payload: the recorder also reads the changed file (issue 18)."""
    return json.dumps(
        {
            "session_id": "bench",
            "transcript_path": "/home/dev/.claude/projects/-home-dev-app/bench.jsonl",
            "cwd": "/home/dev/app",
            "permission_mode": "default",
            "hook_event_name": "ConfigChange",
            "source": "project_settings",
            "file_path": str(settings),
        }
    ).encode()


def commands() -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "baseline `python -c pass`": [sys.executable, "-c", "pass"],
        "`agentaudit-hook claude-code`": [str(bin_dir / "agentaudit-hook"), "claude-code"],
        "`python -m agentaudit.receivers.hook claude-code`": [
            sys.executable,
            "-m",
            "agentaudit.receivers.hook",
            "claude-code",
        ],
        "`agentaudit hook claude-code` (full CLI)": [
            str(bin_dir / "agentaudit"),
            "hook",
            "claude-code",
        ],
        CONFIG_CHANGE: [str(bin_dir / "agentaudit-hook"), "claude-code"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {name: [] for name in commands()}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AGENTAUDIT_HOME": home}
        settings = Path(home) / "settings.json"  # a realistic user settings file
        hooks = {"PreToolUse": [{"hooks": [{"type": "command", "command": "agentaudit-hook x"}]}]}
        settings.write_text(
            json.dumps({"permissions": {"allow": ["Bash(npm test)"]}, "hooks": hooks})
        )
        for _ in range(args.runs):
            for name, command in commands().items():
                payload = config_change(settings) if name == CONFIG_CHANGE else PAYLOAD
                started = time.perf_counter()
                subprocess.run(command, input=payload, env=env, check=True, capture_output=True)
                timings[name].append((time.perf_counter() - started) * 1000)
        lines = sum(
            len(p.read_bytes().splitlines()) for p in (Path(home) / "hooks").glob("*.jsonl")
        )
    assert lines == (len(commands()) - 1) * args.runs, lines
    base = statistics.median(timings["baseline `python -c pass`"])
    rows = []
    for name, values in timings.items():
        median = statistics.median(values)
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        rows.append(
            f"| {name} | {median:.1f} | {p95:.1f} | {median / base:.2f} | {median - base:+.1f} |"
        )
    body = f"""## Hook latency (issue 3)

`python -m bench.hook_latency --runs {args.runs}`: each command run {args.runs} times (interleaved)
with a real PreToolUse payload on stdin (the last row: a ConfigChange payload, for which the
recorder also reads the changed settings file), appending to a hook log in a temporary
AGENTAUDIT_HOME ({lines} lines written and checked). Wall time per call as the agent sees it (process start to exit).
The machine is shared: compare the ratios, not the milliseconds (baseline this run {base:.1f} ms).

| command | median ms | p95 ms | × baseline | added ms |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

Install `agentaudit-hook` as the hook command: it imports only the standard library. The full
CLI form pays the CLI's start-up (typer, rich; no DuckDB since its imports moved into the commands) on every tool call.
"""
    write_section("hook_latency", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
