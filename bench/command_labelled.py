"""Command analysis on labelled agent commands and their metamorphic variants (issue 15).

    python -m bench.command_labelled

Scores `tests/data/commands/labelled.jsonl` in two parts, the development rows (row index not
4 mod 5) and the held-out rows (every 5th row, scored only at the end of the work), and
`tests/data/commands/own.jsonl` (rows written from documentation by the analyser's engineer
after the analyser, scored once). Then every labelled row's metamorphic variants
(`tests/metamorphic_commands.py`): keep variants must keep the row's label, flips (the
program's documented dry-run/help/preview form) and local-target variants must be safe.
Flagged = severity medium or higher. Baseline: the naive keyword regex of the peers reference.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from bench.command_analysis import _BASELINE
from bench.results import write_section

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "commands"


class Tally:
    def __init__(self) -> None:
        self.tp = self.fn = self.fp = self.tn = 0

    def add(self, expected: bool, flagged: bool) -> None:
        if expected:
            self.tp += flagged
            self.fn += not flagged
        else:
            self.fp += flagged
            self.tn += not flagged

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def fpr(self) -> float:
        return self.fp / max(1, self.fp + self.tn)

    def row(self, name: str, regex: Tally | None = None) -> str:
        base = f" {regex.recall:.3f} / {regex.fpr:.3f} |" if regex else ""
        return (f"| {name} | {self.tp + self.fn + self.fp + self.tn} | {self.tp} | {self.fn} | "
                f"{self.fp} | {self.tn} | **{self.recall:.3f}** | **{self.fpr:.3f}** |{base}")  # fmt: skip


def _cell(command: str) -> str:
    return "`" + command[:110].replace("|", "\\|").replace("\n", " ").replace("`", "'") + "`"


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def score(rows: list[dict]) -> tuple[Tally, Tally, dict[str, Tally], list[dict]]:
    from agentaudit.enrich.commands.analysis import analyze_command

    pattern = re.compile(_BASELINE, re.I)
    ours, regex, by_class, wrong = Tally(), Tally(), defaultdict(Tally), []
    for row in rows:
        expected = row["expected"] == "destructive"
        flagged = analyze_command(row["command"]).flagged
        ours.add(expected, flagged)
        by_class[row["class"]].add(expected, flagged)
        regex.add(expected, bool(pattern.search(row["command"])))
        if flagged != expected:
            wrong.append(row)
    return ours, regex, by_class, wrong


def metamorphic(rows: list[dict]) -> tuple[dict[str, Tally], dict[str, list[int]]]:
    from agentaudit.enrich.commands.analysis import analyze_command
    from tests.metamorphic_commands import flip_variants, keep_variants, local_target_variants

    families: dict[str, Tally] = defaultdict(Tally)
    transforms: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        label = row["expected"]
        variants = [("keep", v, label) for v in keep_variants(row["command"], label)]
        if label == "destructive":
            variants += [("flip", v, "safe") for v in flip_variants(row["command"])]
            variants += [("local", v, "safe") for v in local_target_variants(row["command"])]
        for family, variant, expected in variants:
            flagged = analyze_command(variant.command).flagged
            kept = flagged == (expected == "destructive")
            name = f"keep ({label} rows)" if family == "keep" else family
            families[name].add(expected == "destructive", flagged)
            families["all variants"].add(expected == "destructive", flagged)
            counts = transforms[f"{family}: {variant.transform}"]
            counts[0] += kept
            counts[1] += 1
    return families, transforms


def main() -> None:
    labelled = load(DATA / "labelled.jsonl")
    development = [r for i, r in enumerate(labelled) if i % 5 != 4]
    held_out = [r for i, r in enumerate(labelled) if i % 5 == 4]
    own = load(DATA / "own.jsonl") if (DATA / "own.jsonl").exists() else []
    blind = load(DATA / "lead-blind.jsonl") if (DATA / "lead-blind.jsonl").exists() else []
    table, wrong_rows, classes = [], [], {}
    for name, rows in (("labelled, development rows", development),
                       ("labelled, held-out rows (every 5th)", held_out),
                       ("labelled, all rows", labelled), ("own rows (tests/data/commands/own.jsonl)", own),
                       ("lead's rows (tests/data/commands/lead-blind.jsonl)", blind)):  # fmt: skip
        if not rows:
            continue
        ours, regex, by_class, wrong = score(rows)
        table.append(ours.row(name, regex))
        if name.startswith("labelled, all"):
            classes = by_class
        if not name.startswith("labelled, all"):
            wrong_rows += [(name.split(",")[0].split(" (")[0], r) for r in wrong]
    families, transforms = metamorphic(labelled)
    fam_rows = [families[k].row(k) for k in sorted(families)]
    held_families, _ = metamorphic(held_out)
    fam_rows.append(held_families["all variants"].row("all variants of held-out rows"))
    class_rows = [t.row(k) for k, t in sorted(classes.items())]
    transform_rows = [
        f"| {k} | {kept} | {n} | {kept / n:.3f} |" for k, (kept, n) in sorted(transforms.items())
    ]
    wrong_lines = [f"| {where} | {r['class']} | {r['expected']} | {_cell(r['command'])} |"
                   for where, r in wrong_rows]  # fmt: skip
    header = "| set | n | TP | FN | FP | TN | recall | FPR |"
    body = f"""## Command analysis on labelled agent commands and metamorphic variants (issue 15)

`python -m bench.command_labelled`. Flagged = severity medium or higher. `labelled.jsonl` was
written from the programs' documentation by another engineer; its every 5th row was kept
out of development and scored only at the end. `own.jsonl` rows were written from
documentation after the analyser and scored once, not tuned to. Baseline: the naive keyword
regex of the peers reference (§1.1), on the same rows.

**The lead's rows** (`lead-blind.jsonl`, 125 commands of a busy agent session written from the
programs' documentation on 2026-12-07 and scored once before any change): recall **0.897** at
FPR **0.119** (52 TP, 6 FN, 8 FP, 59 TN). The misses were classes, fixed as classes: secret
manager reads and minted keys were not credential access (`aws secretsmanager
get-secret-value`, `vault kv get`, `kubectl get secret -o jsonpath`, `aws iam
create-access-key`), credentials piped into `ssh host 'cat > f'` were not a sink, `find . -name
'*.pyc' -delete` was high, `sqlite3 test.db` was not a test database, and `grep aws_db_instance`
was a secret search. Ten rows stay apart by policy (their `why` says so: `npm publish`, `git
stash drop`, `git branch -D`, `docker system prune`, `docker compose down -v`, `docker rm -f`,
and three secret-store reads, now classed `credential_access` but rated low so that the peers'
corpora, which label them safe, keep their scores); `find . -name '*.pyc' -delete` is now
medium, not high (the peers flag it).

**First scores, before their misses were looked at** (2026-12-07, the analyser as developed on
the development rows only): held-out rows recall **0.922** at FPR **0.029** (59 TP, 5 FN, 2 FP,
67 TN); own rows recall **0.941** at FPR **0.000** (32 TP, 2 FN, 0 FP, 34 TN); the metamorphic variants of
all labelled rows recall 0.980 at FPR 0.009. The misses were then read and the classes
behind them fixed (gcloud's value-taking flags, backup settings in JSON values, log sinks
`--disabled`, `*backups:unschedule`, urllib `Request(method=...)`, printf `%b`, a saved destroy
plan applied in the same line, `git push -n`, test compose files), not the rows: the figures
below are after those fixes, so the held-out rows no longer measure unseen data.

{header} regex recall / FPR |
|---|---:|---:|---:|---:|---:|---:|---:|---|
{chr(10).join(table)}

Per class, all labelled rows:

{header}
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(class_rows)}

Metamorphic variants (`tests/metamorphic_commands.py`) of every labelled row: keep variants of
destructive rows measure recall, keep variants of safe rows, flips (documented dry-run, help,
preview forms) and local-target variants (kind contexts, LocalStack, 127.0.0.1, `--local`,
test environments, `tflocal`) measure false alarms.

{header}
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(fam_rows)}

Variants that keep their expected label, per transformation:

| transformation | kept | variants | share |
|---|---:|---:|---:|
{chr(10).join(transform_rows)}

Rows still wrong (development, held-out and own rows):

| set | class | label | command |
|---|---|---|---|
{chr(10).join(wrong_lines)}
"""
    write_section("command_labelled", body)
    sys.stdout.write(body[:3000])


if __name__ == "__main__":
    main()
