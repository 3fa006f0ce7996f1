"""Guard decision time per call, including the hook process's start.

    python -m bench.guard [--calls 300]

Each call is a real process fed one Claude Code PreToolUse payload on stdin, timed from
spawn to exit, round-robin over benign and destructive commands. Side by side on the same
calls: the floor (`python -c pass`: any Python hook pays it), `agentaudit-guard` answered by
the resident helper (`agentaudit guard-serve`), the same client with no helper (it imports
the analysis and decides in-process), and the full `agentaudit guard` CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import write_section

COMMANDS = [
    "git status",
    "npm test -- reservations",
    "rm -rf /tmp/build",
    "kubectl delete deployment web -n staging",
    "terraform destroy -auto-approve -var env=prod",
    "curl -s https://example.com/api/health",
    "rg TODO src",
    'curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer '
    '6f0c2b9e-41d7-4c3a-a8e5-d2b7f19c0e84" -d \'{"query":"mutation { volumeDelete(volumeId: '
    '\\"v1\\") }"}\'',
]


def payload(command: str) -> str:
    return json.dumps({"session_id": "bench", "cwd": "/work/app", "hook_event_name": "PreToolUse",
                       "tool_name": "Bash", "tool_input": {"command": command}})  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def time_calls(argv: list[str], calls: int, env: dict[str, str]) -> tuple[list[float], list[str]]:
    times, outputs = [], []
    for i in range(calls):
        data = payload(COMMANDS[i % len(COMMANDS)]).encode()
        started = time.perf_counter()
        done = subprocess.run(argv, input=data, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - started)
        outputs.append(done.stdout.decode())
    return times, outputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    sock = work / "g.sock"
    env = {**os.environ, "AGENTAUDIT_HOME": str(work / "home"),
           "AGENTAUDIT_GUARD_LOG": str(work / "decisions.jsonl")}  # fmt: skip
    bindir = Path(sys.executable).parent
    client = [str(bindir / "agentaudit-guard"), "--agent", "claude-code"]
    helper = subprocess.Popen([str(bindir / "agentaudit"), "guard-serve", "--socket", str(sock)],
                              env=env, stderr=subprocess.PIPE)  # fmt: skip
    while not sock.exists():
        time.sleep(0.05)
    sides = {
        "python -c pass (floor)": ([sys.executable, "-c", "pass"], args.calls),
        "agentaudit-guard + resident helper": ([*client, "--socket", str(sock)], args.calls),
        "agentaudit-guard, no helper": ([*client, "--socket", str(work / "none")], args.calls // 5),
        "agentaudit guard (CLI), no helper": (
            [str(bindir / "agentaudit"), "guard", "--agent", "claude-code"], args.calls // 10),
    }  # fmt: skip
    results = {}
    try:
        for name, (argv, calls) in sides.items():
            side_env = (
                env if "CLI" not in name else {**env, "AGENTAUDIT_GUARD_SOCKET": str(work / "none")}
            )
            results[name] = time_calls(argv, calls, side_env)
    finally:
        helper.terminate()
        helper.wait()
    helper_outputs = results["agentaudit-guard + resident helper"][1]
    denied = sum('"deny"' in o for o in helper_outputs)
    floor = percentile(results["python -c pass (floor)"][0], 50)
    rows = []
    for name, (times, _) in results.items():
        p50, p99 = percentile(times, 50), percentile(times, 99)
        rows.append(
            f"| {name} | {len(times)} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | {p50 / floor:.2f}x |"
        )
        print(f"{name}: p50 {p50 * 1000:.1f} ms p99 {p99 * 1000:.1f} ms", file=sys.stderr)
    body = "\n".join([
        "## Guard: decision time per call, process start included",
        "",
        f"`python -m bench.guard --calls {args.calls}`",
        "",
        "Each call spawns the hook process with a Claude Code PreToolUse payload on stdin and "
        f"waits for its exit; commands cycle over {len(COMMANDS)} benign and destructive ones "
        f"({denied} of the helper's {len(helper_outputs)} answers were deny). Ratio: p50 "
        "against the floor, a Python process that does nothing.",
        "",
        "| hook process | calls | p50 ms | p99 ms | p50 vs floor |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ])  # fmt: skip
    write_section("guard", body)


if __name__ == "__main__":
    main()
