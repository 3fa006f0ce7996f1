"""reclassify: re-apply enrichment to stored events (after environments.yaml, catalogs or packs
changed)."""

from __future__ import annotations

import typer

from agentaudit.cli.common import DbOption, JsonOption, example, open_store, print_json, say


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit reclassify",
            "agentaudit reclassify --db audit.duckdb --json",
        )
    )(reclassify)


def reclassify(db: DbOption = None, json: JsonOption = False) -> None:
    """Re-derive environment, categories and severity of stored events from their stored
    columns and raw record (after editing environments.yaml or upgrading catalogs and packs);
    says how many rows changed per column. Run `agentaudit detect` afterwards."""
    from agentaudit.enrich.reclassify import reclassify as run

    with open_store(db) as store:
        report = run(store)
    if json:
        print_json(report.as_dict())
        return
    say(f"{report.examined:,} events examined, {report.changed_rows:,} changed")
    for column, count in report.changed.items():
        if count:
            say(f"  {column}: {count:,} rows")
    if report.changed_rows:
        say("run `agentaudit detect` to re-evaluate findings and routes on the new values")
