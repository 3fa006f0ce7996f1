"""`agentaudit rules test|list|convert` and `agentaudit eval commands`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import (
    EXIT_FAILED,
    DbOption,
    console,
    example,
    fail,
    open_store,
    print_json,
    say,
)

rules_app = typer.Typer(help="Sigma rules: test, list, convert.", no_args_is_help=True)
eval_app = typer.Typer(help="Score the analysers on labeled corpora.", no_args_is_help=True)
DirsOption = Annotated[
    list[Path] | None, typer.Option("--dir", help="Rule directory (repeatable).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(eval_app, name="eval")


def configured_rule_dirs() -> list[Path]:
    from agentaudit.detect.sigma.detector import configured_rule_dirs as configured

    return configured()


def rule_dirs(dirs: list[Path] | None) -> list[Path]:
    """The --dir directories (each must exist), else the configured ones."""
    missing = [str(d) for d in dirs or [] if not d.is_dir()]
    if missing:
        fail(f"no such rule directory: {', '.join(missing)}")
    return dirs or configured_rule_dirs()


def _broken(error: object) -> None:
    say(("BROKEN ", "red"), str(error))


@rules_app.command(
    "test", epilog=example("agentaudit rules test", "agentaudit rules test --dir my-rules --json")
)
def rules_test(
    dirs: DirsOption = None, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Run the tests beside every rule; exit 1 on any failure or broken rule file."""
    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.testing import run_tests

    directories = rule_dirs(dirs)
    ruleset = load_rules(directories)
    results = run_tests(directories, ruleset)
    failed = sum(not r.passed for r in results)
    if as_json:
        print_json(
            {
                "passed": len(results) - failed,
                "failed": failed,
                "broken": [str(e) for e in ruleset.errors],
                "tests": [
                    {"rule": r.rule, "name": r.name, "expected": r.expected,
                     "passed": r.passed, "error": r.error}
                    for r in results
                ],
            }
        )  # fmt: skip
    else:
        for error in ruleset.errors:
            _broken(error)
        for r in results:
            mark = ("ok", "green") if r.passed else ("FAIL", "red")
            expected = "match" if r.expected else "no match"
            say(mark, f" {r.rule}: {r.name} (expected {expected})",
                (f" {r.error}" if r.error else "", "red"))  # fmt: skip
        say(
            f"{len(results) - failed}/{len(results)} rule tests passed, "
            f"{len(ruleset.errors)} broken files"
        )
    if failed or ruleset.errors:
        raise typer.Exit(EXIT_FAILED)


@rules_app.command(
    "run", epilog=example("agentaudit rules run", "agentaudit rules run --dir my-rules --json")
)
def rules_run(
    db: DbOption = None, dirs: DirsOption = None, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Run the Sigma rules on the store and save new findings (kinds rule and correlation)."""
    from agentaudit.detect.driver import run_detection
    from agentaudit.detect.sigma.detector import SigmaRules

    detector = SigmaRules(rule_dirs(dirs) if dirs else None)
    with open_store(db) as store:
        report = run_detection(store, [detector])
    if as_json:
        print_json({**report.as_dict(), "broken": [str(e) for e in detector.errors]})
        return
    for error in detector.errors:
        _broken(error)
    say(f"{len(report.findings)} findings from Sigma rules, {report.findings_new} new")
    for f in report.findings:
        say(f"  {f['severity']:<8} {f['kind']:<11} {f['rule_id']}  {f['title']}")


@rules_app.command(
    "list",
    epilog=example(
        "agentaudit rules list",
        "agentaudit rules list --json",
        "agentaudit rules list --dir my-rules",
    ),
)
def rules_list(dirs: DirsOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every detector, Python or Sigma, by the id its findings carry (what silences and
    incidents name), with severity, kind and where it is defined."""
    from agentaudit.detect.listing import every_detector
    from agentaudit.terminal import Column, FitTable

    rows, errors = every_detector(rule_dirs(dirs) if dirs else None)
    if as_json:
        print_json(rows)
        return
    table = FitTable(
        [
            Column("id", whole=True),
            Column("severity", whole=True),
            Column("kind", whole=True),
            Column("title", shrink_first=True),
            Column("source", optional=True),
        ],
        title="Detectors (finding id)",
    )
    for row in rows:
        kind = row["kind"] if row["finds"] else "building block"
        table.add_row(row["id"], row["severity"], kind, row["title"], _short(row["source"]))
    if not all(row["finds"] for row in rows):
        table.caption = "building block: a Sigma rule only correlations use (no finding of its own)"
    console.print(table)
    for error in errors:
        _broken(error)


def _short(path: str) -> str:
    """A source file relative to the package or the working directory when under them."""
    from agentaudit import __file__ as package_init

    for root in (Path(package_init).resolve().parent, Path.cwd()):
        try:
            return str(Path(path).resolve().relative_to(root))
        except ValueError:
            continue
    return path


@rules_app.command(
    "convert",
    epilog=example(
        "agentaudit rules convert > rules.sql",
        "agentaudit rules convert --target splunk --json",
    ),
)
def rules_convert(
    target: str = typer.Option(
        "duckdb", "--target", help="duckdb, or any installed pySigma backend"
    ),
    dirs: DirsOption = None,
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: each rule's id, title and queries; what was skipped."
    ),
) -> None:
    """Print each rule converted for a target (DuckDB SQL here, or e.g. splunk when installed).

    Queries are written as they are, never wrapped, so piped output runs as it is. A rule the
    target cannot express is named on stderr with the backend's reason; the others convert."""
    from sigma.correlations import SigmaCorrelationRule

    from agentaudit.detect.sigma.loader import load_rules
    from agentaudit.detect.sigma.run import RuleCompiler

    ruleset = load_rules(rule_dirs(dirs))
    if target == "duckdb":
        compiler = RuleCompiler()
        converted = [
            (
                rule,
                compiler.correlation_query(rule)
                if isinstance(rule, SigmaCorrelationRule)
                else compiler.base_query(rule),
            )
            for rule in ruleset.rules
        ]
        if as_json:
            print_json([{"id": str(r.id), "title": r.title, "query": q.strip()}
                        for r, q in converted])  # fmt: skip
            return
        for rule, sql in converted:  # plain writes: a terminal or pipe gets each line whole
            sys.stdout.write(f"-- {rule.title}\n{sql.strip()}\n\n")
        return
    from agentaudit.detect.sigma.targets import convert_for, installed_backends

    backends = installed_backends()
    if target not in backends:
        fail(f"no pySigma backend '{target}' installed (installed: {', '.join(backends) or 'none'}); "
             f"install e.g. pysigma-backend-{target}, or agentaudit[sigma-backends] for "
             "Splunk and Elasticsearch")  # fmt: skip
    result = convert_for(ruleset, backends[target]())
    if as_json:
        print_json({
            "target": target,
            "queries": [{"id": str(r.id), "name": r.name, "title": r.title, "queries": q}
                        for r, q in result.queries],
            "skipped": [{"id": str(r.id), "name": r.name, "title": r.title, "reason": why}
                        for r, why in result.skipped],
            "approximated": [{"id": str(r.id), "name": r.name, "title": r.title, "how": how}
                             for r, how in result.approximated],
        })  # fmt: skip
        return
    for _rule, queries in result.queries:  # machine output: plain writes, never wrapped
        for query in queries:
            sys.stdout.write(query + "\n")
    for rule, how in result.approximated:
        sys.stderr.write(f"approximated {rule.name or rule.id} ({rule.title}): {how}\n")
    for rule, why in result.skipped:
        sys.stderr.write(f"skipped {rule.name or rule.id} ({rule.title}): {why}\n")


@eval_app.command(
    "commands",
    epilog=example(
        "agentaudit eval commands labelled.jsonl", "agentaudit eval commands a.jsonl --json"
    ),
)
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
        say((r["file"], "bold"), f": n={cf['n']} recall={cf['recall']:.4f} FPR={cf['fpr']:.4f} "
                      f"(TP {cf['tp']} FN {cf['fn']} FP {cf['fp']} TN {cf['tn']}); with condition: "
                      f"{json.dumps(r['with_condition'])}; unsupported conditions: {r['unsupported_conditions']}")  # fmt: skip
        for name, s in r["by_category"].items():
            if s["fn"] or s["fp"]:
                say(f"  {name:<48} n={s['n']:<4} recall={s['recall']:.2f} fpr={s['fpr']:.2f}")
        for m in r["misses"][:misses]:
            say(f"  MISS {m['severity']:<7} {m['command'][:100]!r}")
        for m in r["false_alarms"][:misses]:
            say(f"  FP   {m['severity']:<7} {m['command'][:100]!r} {m['rules']}")
