"""Analyser vs a naive keyword regex on the peers' labeled command corpora, per file.

    python -m bench.command_corpus [--corpus DIR]

Flagged = severity medium or higher. Context-free rows are scored as the headline; rows with
a `condition` are scored with the peer fixture we can stand in for (a cwd, HOME) and the rest
(peer configuration: worktree mode, strict mode, custom rules) are counted as unsupported.
Every row where we disagree with the peer is listed with our severity and reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from bench.command_analysis import _BASELINE
from bench.results import write_section

FILES = ["dcg.jsonl", "claude-code-safety-net.jsonl", "codex.jsonl"]


def baseline_score(path: Path) -> dict:
    pattern = re.compile(_BASELINE, re.I)
    tp = fn = fp = tn = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("condition"):
            continue
        flagged, expected = bool(pattern.search(row["command"])), row["expected"] == "destructive"
        tp, fn, fp, tn = (
            tp + (expected and flagged),
            fn + (expected and not flagged),
            fp + (flagged and not expected),
            tn + (not expected and not flagged),
        )
    return {
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "recall": tp / max(1, tp + fn),
        "fpr": fp / max(1, fp + tn),
    }


def _cell(command: str) -> str:
    return "`" + command.replace("\n", "\\n").replace("|", "\\|").replace("`", "'")[:90] + "`"


def main() -> None:
    parser = argparse.ArgumentParser()
    default = os.environ.get(
        "AGENTAUDIT_CORPUS", str(Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
    )
    parser.add_argument("--corpus", default=default)
    args = parser.parse_args()
    from agentaudit.enrich.commands.evaluate import evaluate_file

    directory = Path(args.corpus) / "commands"
    if not directory.is_dir():
        sys.stdout.write(f"corpus not found at {directory}: skipped\n")
        return
    rows, details = [], []
    for name in FILES:
        result = evaluate_file(directory / name).as_dict()
        base = baseline_score(directory / name)
        cf, cond = result["context_free"], result["with_condition"]
        policy = result["misses_by_policy"]
        excl = cf["tp"] / max(1, cf["tp"] + cf["fn"] - policy)
        rows.append(
            f"| {name} | {cf['n']} | {cf['tp']} | {cf['fn']} ({policy} by policy) | {cf['fp']} | {cf['tn']} | **{cf['recall']:.3f}** ({excl:.3f} without policy rows) | **{cf['fpr']:.3f}** "
            f"| {base['recall']:.3f} | {base['fpr']:.3f} | {cond['n']}: {cond['recall']:.2f} / {cond['fpr']:.2f} | {result['unsupported_conditions']} |"
        )
        details.append(f"\n#### {name}: rows where we differ from the peer's label\n")
        details.append("| peer label | ours | command | our reason |\n|---|---|---|---|")
        for miss in result["misses"]:
            details.append(
                f"| destructive | {miss['severity']} | {_cell(miss['command'])} | {(miss['reasons'] or ['no rule matched'])[0][:80]} |"
            )
        for fa in result["false_alarms"]:
            details.append(
                f"| safe | {fa['severity']} | {_cell(fa['command'])} | {(fa['reasons'] or [''])[0][:80]} |"
            )
    body = f"""## Command analysis on the peers' labeled corpora

`python -m bench.command_corpus` (equivalently `agentaudit eval commands ../shared/corpus/commands/*.jsonl`).
Flagged = severity medium or higher. Baseline: the naive keyword regex of the peers reference §1.1,
run over the same rows.

| file | n (context-free) | TP | FN | FP | TN | recall | FPR | regex recall | regex FPR | with condition: n: recall / FPR | unsupported conditions |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|
{chr(10).join(rows)}

### Where our policy deliberately differs

* **Regenerable output inside the project is low** (`rm -rf ./build`, `rm -rf node_modules`, also
  `parallel rm -rf {{}} ::: build`): the issue's own policy; dcg denies them.
* **Deletion inside temp dirs is low** (`rm -rf /tmp/x`, `shutil.rmtree('/tmp/demo')`, `find /tmp -execdir rm -rf`):
  safety-net and dcg allow temp deletion; **codex flags every forced `rm`, `/tmp` included**, so its
  `/tmp/example` rows are misses for us. The two peers contradict each other on these rows; we side
  with safety-net/dcg (an auditor pages on what loses data).
* **Peers' opt-in packs**: `docker rm`, `docker rmi`, `docker system prune`, `kubectl delete namespace`,
  `kubectl delete all --all` are labeled safe in dcg's `edge_cases/future_packs` because those packs
  are off by default there; we flag them.
* **`rm -r` without `-f`** on paths outside the project is flagged (dcg issue #211: bare `rm -r` is
  fully destructive); safety-net only blocks `-rf`.
* **Recursive deletes of project content that is not regenerable output** are medium (`rm -r directory`,
  `rm -rf ./subdir`, `find . -exec rm -r {{}} \\;`, which empties the whole project): work a human
  wrote, not all of it in git. `agentaudit guard` asks for these (never denies).
* **Guard and the corpus's safe rows**: of the 1,288 context-free rows labelled safe, `agentaudit guard`
  allows all but 11, each one of the differences above: it denies `kubectl delete namespace prod`
  and asks for `kubectl delete all --all`, `docker system prune` (and `-a`), `docker rm container`,
  `docker rmi image`, `rm -r /some/path`, `rm -R /some/path`, `rm -r directory`,
  `find . -exec rm -r {{}} \\;` and `if then rm -rf /tmp/example` (tests/test_guard.py, POLICY_DIFFERS).
* **Release/publish commands** (`mvn deploy`, `poetry publish`) and **pushes to main/master** are not
  destruction for us; dcg's strict packs flag them.
* **`git clean -nf`**: `-n` makes it a dry run, so we do not flag it; safety-net does.
* **Unparsed input** is never info: it is analysed by the token fallback and raised one level
  (`if then rm -rf /tmp/example` is medium, codex calls it safe because bash would reject it).
* **What bash would run decides**, not the text: `echo yes | rm -rf` deletes nothing (no
  operand); in the rows `git reset\\n--hard` and `bash <<-EOF\\n\\trm -rf /etc` the `\\n` and
  `\\t` are a backslash and a letter, so bash runs `git reset` with the argument `n--hard` and
  the command `trm`.
* **Not destruction for us**: CDN cache invalidation (`aws cloudfront create-invalidation`),
  activating a service version (`fastly service version activate`) and a zone transfer
  (`dig axfr`, a read) lose no data; dcg's CDN/DNS packs flag them.
* **Added classes** (each with a must-fire and must-allow test in `tests/test_command_analysis.py`):
  `git push` options beginning `--force` that git does not define are read as `--force`;
  `nsupdate` (records deleted by a literal, or updates it reads unseen); runtime API verbs
  piped into a control socket (`disable server`, `shutdown sessions`, `set server ... state
  maint`); `haproxy -sf/-st`; backup restores over live data (`gitlab-backup restore`); HTTP
  writes to cluster admin endpoints (`_cluster/settings`, snapshot `_restore`); `xargs`/`parallel`
  turning input lines into `sh -c` code (and `parallel` reading one argument per line).
{chr(10).join(details)}
"""
    write_section("command_corpus", body)
    sys.stdout.write(body[:2000])


if __name__ == "__main__":
    main()
