"""Commands analysed per second on one core: agentaudit's analyser vs a naive keyword regex.

    python -m bench.command_analysis [--commands N]

The mix imitates an agent session log: most lines repeat (git status, npm test, ls), file
and resource names vary, a few lines are destructive, nested (`bash -c`, heredocs, pipes)
or long. Both sides read the same generated list, in their own process pinned to one core.
Ours runs with its cache (agents repeat themselves) and once more with the cache cleared
before every call (cold: every command parsed). The baseline is the keyword regex the peers
reference describes (rm -rf, git reset/clean/push -f, DROP/TRUNCATE/DELETE FROM, terraform
destroy, kubectl delete, mkfs/shred/wipefs, dd of=/dev, delete|destroy|remove|purge|terminate).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from bench.measure import peak_rss_mb, run_side
from bench.results import write_section

_REPEATED = [
    "git status", "git diff", "npm test", "ls -la", "pytest -q", "git log --oneline -10",
    "npm run build", "cat package.json", "make lint", "git add -A", "docker compose ps",
]  # fmt: skip
_TEMPLATES = [
    "cat src/{f}.ts", "sed -n '1,80p' src/{f}.py", "rg -n '{f}' src", "git diff -- src/{f}.py",
    "python -m pytest tests/test_{f}.py -q", "ls src/{f}", "grep -rn TODO src/{f}.ts",
    "rm -rf build/{f}", "rm -f /tmp/{f}.log", "git checkout -- src/{f}.py",
    "kubectl get pods -n {f}", "aws s3 ls s3://bucket-{f}", "curl -s https://api.example.com/{f}",
    "bash -c 'cd /repo && npm run {f}'", "cat <<'EOF' > notes/{f}.md\n# {f}\nEOF",
    "find . -name '*.{f}' -print | head", "echo {f} | xargs -I{{}} echo {{}}",
    "psql -c 'select count(*) from {f}'", "terraform plan -target=module.{f}",
    "kubectl delete pod {f}-0 -n staging", "railway logs --service {f}",
]  # fmt: skip
_RARE = [
    "rm -rf ~", "git reset --hard HEAD~3", "git push --force origin main",
    "railway volume delete --volume 3d2c42fb --yes", "curl -X DELETE https://api.vercel.com/v9/projects/app",
    "psql -c 'DROP TABLE users'", "terraform destroy -auto-approve", "echo cm0gLXJmIC8= | base64 -d | sh",
    "python3 -c \"import shutil; shutil.rmtree('/srv/data')\"", "r''m -rf /", "rm$IFS-rf$IFS/",
]  # fmt: skip
_BASELINE = (
    r"\brm\s+-[a-z]*[rf]|\bgit\s+(reset|clean|push\s+(-f|--force))|\b(drop|truncate)\s+table|"
    r"\bdelete\s+from\b|\bterraform\s+destroy|\bkubectl\s+delete|\b(mkfs|shred|wipefs)\b|"
    r"\bdd\s+.*of=/dev|\b(delete|destroy|remove|purge|terminate)"
)


def generate(count: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    names = [f"mod{i}" for i in range(1500)]
    out = []
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.55:
            out.append(rnd.choice(_REPEATED))
        elif roll < 0.98:
            out.append(rnd.choice(_TEMPLATES).format(f=rnd.choice(names)))
        else:
            out.append(rnd.choice(_RARE))
    return out


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def side(name: str, count: int) -> dict:
    _pin_one_core()
    commands = generate(count)
    if name == "baseline":
        import re

        pattern = re.compile(_BASELINE, re.I)
        started = time.perf_counter()
        flagged = sum(1 for c in commands if pattern.search(c))
    else:
        from agentaudit.enrich.commands.analysis import analyze_command

        analyze_command("true")  # load the grammar and packs outside the timing
        started = time.perf_counter()
        if name == "ours-cold":
            flagged = 0
            for c in commands:
                analyze_command.cache_clear()
                flagged += analyze_command(c).flagged
        else:
            flagged = sum(1 for c in commands if analyze_command(c).flagged)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "commands": len(commands), "distinct": len(set(commands)),
            "flagged": flagged, "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--side", choices=["ours", "ours-cold", "baseline"])
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.commands)))
        return
    cold_n = max(2000, args.commands // 20)
    ours = run_side("bench.command_analysis", "--side", "ours", "--commands", str(args.commands))
    base = run_side(
        "bench.command_analysis", "--side", "baseline", "--commands", str(args.commands)
    )
    cold = run_side("bench.command_analysis", "--side", "ours-cold", "--commands", str(cold_n))
    rate = {
        k: v["commands"] / v["seconds"] for k, v in (("ours", ours), ("base", base), ("cold", cold))
    }
    body = f"""## Command analysis throughput

`python -m bench.command_analysis --commands {args.commands}`: a generated agent-log mix of
{args.commands:,} command lines ({ours["distinct"]:,} distinct: 55% repeated lines such as `git status`, 43%
templates over 1,500 file/resource names, 2% destructive or evasive lines). Each side in its own
process pinned to one core. Ours: `analyze_command` (tree-sitter-bash parse, canonicalization,
recursion, packs) with its LRU cache; cold: the cache cleared before every call.
Baseline: one keyword regex (the peers reference, §1.1) searched over each line.

| side | commands | seconds | commands/s | flagged | peak RSS MB |
|---|---:|---:|---:|---:|---:|
| agentaudit, cached | {ours["commands"]:,} | {ours["seconds"]:.2f} | {rate["ours"]:,.0f} | {ours["flagged"]:,} | {ours["peak_rss_mb"]:.0f} |
| agentaudit, cold (no cache) | {cold["commands"]:,} | {cold["seconds"]:.2f} | {rate["cold"]:,.0f} | {cold["flagged"]:,} | {cold["peak_rss_mb"]:.0f} |
| naive keyword regex | {base["commands"]:,} | {base["seconds"]:.2f} | {rate["base"]:,.0f} | {base["flagged"]:,} | {base["peak_rss_mb"]:.0f} |

**Ratio cached / regex: {rate["ours"] / rate["base"]:.3f}; cold / regex: {rate["cold"] / rate["base"]:.4f}.**
Target: at least 10,000 commands/s cached on one core ({"met" if rate["ours"] >= 10_000 else "NOT met"}).
The regex flags different lines: it cannot tell `rm -rf build` from `rm -rf ~`, and misses `r''m`.
"""
    write_section("command_analysis", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
