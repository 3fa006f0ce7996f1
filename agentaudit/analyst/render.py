"""Rich renderings shared by the CLI and the demo (store text through `agentaudit.terminal`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from agentaudit.terminal import Column, FitTable, evidence, styled

if TYPE_CHECKING:
    import pyarrow as pa

    from agentaudit.ingest import IngestReport

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def severity(value: str) -> Text:
    return evidence(value, SEVERITY_STYLE.get(value, ""))


def ingest_table(report: IngestReport) -> FitTable:
    table = FitTable(
        [
            Column("file", shrink_first=True),
            Column("source", whole=True),
            Column("ingested", whole=True, justify="right"),
            Column("duplicate", whole=True, justify="right"),
            Column("quarantined", whole=True, justify="right"),
            Column("status"),
        ],
        title="Ingest",
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
        styled(("total", "bold")),
        "",
        str(report.ingested),
        str(report.duplicate),
        str(report.quarantined),
        "",
    )
    return table


def findings_table(findings: list[dict[str, Any]]) -> FitTable:
    table = FitTable(
        [
            Column("severity", whole=True),
            Column("rule", whole=True),
            Column("title", shrink_first=True),
            Column("first seen (UTC)", whole=True, optional=True),
            Column("events", whole=True, justify="right", optional=True),
        ],
        title=f"Findings ({len(findings)})",
    )
    for f in findings:
        table.add_row(
            severity(f["severity"]),
            f["rule_id"],
            f["title"],
            # (a finding on untimed lines, e.g. bash history without HISTTIMEFORMAT, has none)
            f["first_seen"].strftime("%H:%M:%S.%f")[:-3] if f.get("first_seen") else "untimed",
            str(len(f["event_ids"])),
        )
    return table


def is_id_column(name: str) -> bool:
    """Query columns shown whole: ids (event_id, alert_id, ...) and ids lists' names."""
    return name == "id" or name.endswith("_id")


def arrow_table(result: pa.Table, title: str | None = None, limit: int = 200) -> FitTable:
    table = FitTable(
        [Column(name, whole=is_id_column(name)) for name in result.column_names], title=title
    )
    for row in result.slice(0, limit).to_pylist():
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    if result.num_rows > limit:
        table.caption = f"{result.num_rows - limit} more rows not shown (use --json)"
    return table
