"""store info, store migrate: the store file itself (see docs/ARCHITECTURE.md, "Store and
migrations")."""

from __future__ import annotations

import typer

from agentaudit import paths
from agentaudit.cli.common import (
    DbOption,
    JsonOption,
    example,
    fail,
    label_store_process,
    notice,
    open_store,
    print_json,
    say,
)

store_app = typer.Typer(help="The store file: schema version, migrations, storage format.")


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


@store_app.command(
    "info",
    epilog=example("agentaudit store info", "agentaudit store info --db audit.duckdb --json"),
)
def store_info(db: DbOption = None, json: JsonOption = False) -> None:
    """Schema version and migration history, storage format, tables; changes nothing."""
    from agentaudit.store import StoreError
    from agentaudit.store.info import store_info as describe

    label_store_process()
    try:
        info = describe(db or paths.default_db_path(), on_wait=notice)
    except (FileNotFoundError, StoreError) as exc:
        fail(str(exc))
        return
    if json:
        print_json(info)
        return
    say(f"{info['path']} ({info['bytes']:,} bytes, DuckDB storage {info['storage_version']})")
    say(
        f"schema version {info['schema_version']} of {info['latest_schema_version']}: {info['state']}"
    )
    for step in info["history"]:
        say(
            f"  {step['version']:>3}  {step['applied_at']:%Y-%m-%d %H:%M:%S}  "
            f"agentaudit {step['agentaudit_version']}  {step['description']}"
        )
    for table in info["tables"]:
        rows = "absent" if table["rows"] is None else f"{table['rows']:,} rows"
        say(f"  {table['table']:<18} {table['owner']:<7} {rows}")


@store_app.command(
    "migrate", epilog=example("agentaudit store migrate", "agentaudit store migrate --json")
)
def store_migrate(db: DbOption = None, json: JsonOption = False) -> None:
    """Bring an older store to this version now (any writable command does it too)."""
    with open_store(db) as store:
        report = store.migration
    if json:
        print_json(
            None
            if report is None
            else {"from_version": report.from_version, "to_version": report.to_version,
                  "applied": report.applied, "summary": report.summary()}
        )  # fmt: skip
        return
    if report is not None and not report.migrated:
        say(report.summary())
