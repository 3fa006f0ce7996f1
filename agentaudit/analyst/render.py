"""Rich renderings shared by the CLI and the demo."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.markup import escape
from rich.table import Table

from agentaudit.ingest import IngestReport

_SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def ingest_table(report: IngestReport) -> Table:
    table = Table(title="Ingest", title_justify="left")
    for column in ("file", "source", "ingested", "duplicate", "quarantined", "status"):
        table.add_column(
            column,
            justify="right" if column in ("ingested", "duplicate", "quarantined") else "left",
        )
    for f in report.files:
        table.add_row(
            f.path.rsplit("/", 1)[-1],
            f.source or "-",
            str(f.ingested),
            str(f.duplicate),
            str(f.quarantined),
            f"{f.status}: {f.detail}"
            if f.failed or f.status == "interrupted"
            else f.detail or f.status,
        )
    table.add_row(
        "[bold]total[/]",
        "",
        str(report.ingested),
        str(report.duplicate),
        str(report.quarantined),
        "",
    )
    return table


def findings_table(findings: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Findings ({len(findings)})", title_justify="left")
    for column in ("severity", "rule", "title", "first seen (UTC)", "events"):
        table.add_column(column, ratio=2 if column == "title" else None)
    for f in findings:
        style = _SEVERITY_STYLE.get(f["severity"], "")
        table.add_row(
            f"[{style}]{f['severity']}[/]",
            f["rule_id"],
            escape(f["title"]),
            f["first_seen"].strftime("%H:%M:%S.%f")[:-3],
            str(len(f["event_ids"])),
        )
    return table


def arrow_table(result: pa.Table, title: str | None = None, limit: int = 200) -> Table:
    table = Table(title=title, title_justify="left")
    for name in result.column_names:
        table.add_column(name, overflow="fold")
    for row in result.slice(0, limit).to_pylist():
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    if result.num_rows > limit:
        table.caption = f"{result.num_rows - limit} more rows not shown (use --json)"
    return table
