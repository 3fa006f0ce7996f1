"""`agentaudit rules test|list|convert` and `agentaudit eval commands`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import DbOption, console, open_store, print_json
from agentaudit.detect.sigma.detector import configured_rule_dirs

rules_app = typer.Typer(help="Sigma rules: test, list, convert.", no_args_is_help=True)
eval_app = typer.Typer(help="Score the analysers on labeled corpora.", no_args_is_help=True)
DirsOption = Annotated[
    list[Path] | None, typer.Option("--dir", help="Rule directory (repeatable).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(eval_app, name="eval")


@rules_app.command("test")
def rules_test(dirs: DirsOption = None) -> None:
    """Run the tests beside every rule; exit 1 on any failure or broken rule file."""
    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.testing import run_tests

    directories = dirs or configured_rule_dirs()
    ruleset = load_rules(directories)
    results = run_tests(directories, ruleset)
    for error in ruleset.errors:
        console.print(f"[red]BROKEN[/red] {error}")
    for r in results:
        mark = "[green]ok[/green]" if r.passed else "[red]FAIL[/red]"
        console.print(f"{mark} {r.rule}: {r.name} (expected {'match' if r.expected else 'no match'})"
                      + (f" [red]{r.error}[/red]" if r.error else ""))  # fmt: skip
    failed = sum(not r.passed for r in results)
    console.print(
        f"{len(results) - failed}/{len(results)} rule tests passed, {len(ruleset.errors)} broken files"
    )
    if failed or ruleset.errors:
        raise typer.Exit(1)


@rules_app.command("run")
def rules_run(
    db: DbOption = None, dirs: DirsOption = None, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Run the Sigma rules on the store and save new findings (kinds rule and correlation)."""
    from agentaudit.detect.driver import run_detection
    from agentaudit.detect.sigma.detector import SigmaRules

    detector = SigmaRules(dirs or None)
    with open_store(db) as store:
        report = run_detection(store, [detector])
    for error in detector.errors:
        console.print(f"[red]BROKEN[/red] {error}")
    if as_json:
        print_json(report.as_dict())
        return
    console.print(f"{len(report.findings)} findings from Sigma rules, {report.findings_new} new")
    for f in report.findings:
        console.print(f"  {f['severity']:<8} {f['kind']:<11} {f['rule_id']}  {f['title']}")


@rules_app.command("list")
def rules_list(dirs: DirsOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """id, title, level and tags of every loaded rule."""
    from agentaudit.detect.sigma.loader import level_of, load_rules

    ruleset = load_rules(dirs or configured_rule_dirs())
    rows = [
        {"id": str(r.id), "name": r.name, "title": r.title, "level": level_of(r),
         "tags": [str(t) for t in (r.tags or [])]}
        for r in ruleset.rules
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(f"{row['id']}  {row['level']:<8} {row['title']}  {' '.join(row['tags'])}")
    for error in ruleset.errors:
        console.print(f"[red]BROKEN[/red] {error}")


@rules_app.command("convert")
def rules_convert(
    target: str = typer.Option(
        "duckdb", "--target", help="duckdb, or any installed pySigma backend"
    ),
    dirs: DirsOption = None,
) -> None:
    """Print each rule converted for a target (DuckDB SQL here, or e.g. splunk when installed)."""
    from sigma.correlations import SigmaCorrelationRule

    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.run import RuleCompiler

    ruleset = load_rules(dirs or configured_rule_dirs())
    if target == "duckdb":
        compiler = RuleCompiler()
        for rule in ruleset.rules:
            sql = (
                compiler.correlation_query(rule)
                if isinstance(rule, SigmaCorrelationRule)
                else compiler.base_query(rule)
            )
            console.print(f"-- {rule.title}\n{sql.strip()}\n", markup=False, highlight=False)
        return
    from sigma.plugins import InstalledSigmaPlugins

    backends = InstalledSigmaPlugins.autodiscover().backends
    if target not in backends:
        console.print(f"no pySigma backend '{target}' installed (installed: {', '.join(backends) or 'none'}); "
                      f"install e.g. pysigma-backend-{target}")  # fmt: skip
        raise typer.Exit(2)
    from sigma.collection import SigmaCollection

    backend = backends[target]()
    for query in backend.convert(SigmaCollection(ruleset.rules)):
        console.print(str(query), markup=False, highlight=False)


@eval_app.command("commands")
def eval_commands(
    files: list[Path],
    as_json: bool = typer.Option(False, "--json"),
    misses: int = typer.Option(20, help="Misses to list."),
) -> None:
    """Recall, false positive rate, per-category table and misses on labeled JSONL corpora."""
    from agentaudit.enrich.commands.evaluate import evaluate_file

    results = [evaluate_file(f).as_dict() for f in files]
    if as_json:
        print_json(results)
        return
    for r in results:
        cf = r["context_free"]
        console.print(f"[bold]{r['file']}[/bold]: n={cf['n']} recall={cf['recall']:.4f} FPR={cf['fpr']:.4f} "
                      f"(TP {cf['tp']} FN {cf['fn']} FP {cf['fp']} TN {cf['tn']}); with condition: "
                      f"{json.dumps(r['with_condition'])}; unsupported conditions: {r['unsupported_conditions']}")  # fmt: skip
        for name, s in r["by_category"].items():
            if s["fn"] or s["fp"]:
                console.print(
                    f"  {name:<48} n={s['n']:<4} recall={s['recall']:.2f} fpr={s['fpr']:.2f}"
                )
        for m in r["misses"][:misses]:
            console.print(f"  MISS {m['severity']:<7} {m['command'][:100]!r}", markup=False)
        for m in r["false_alarms"][:misses]:
            console.print(
                f"  FP   {m['severity']:<7} {m['command'][:100]!r} {m['rules']}", markup=False
            )
