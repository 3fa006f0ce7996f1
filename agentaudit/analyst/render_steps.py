"""Rich renderings of timelines as steps, and of incidents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agentaudit.analyst.render import SEVERITY_STYLE, findings_table, severity
from agentaudit.analyst.timeline_render import gap_sentence
from agentaudit.terminal import Column, FitTable, evidence, stacked, styled

if TYPE_CHECKING:
    from agentaudit.analyst.incidents import Incident
    from agentaudit.analyst.timeline_steps import Step, TimelineReport


def _env_style(env: str) -> str:
    return "bold red" if env == "production" else "cyan"


def step_cell(step: Step) -> Text:
    """What the step did (red when destructive), its outcome and environment, its detail and
    the other records of the same call, dimmed."""
    from agentaudit.analyst.timeline_steps import row_note

    what = evidence(step.what, "bold red" if step.destructive else "")
    if step.status in ("failure", "denied"):
        what.append(" (refused)" if step.status == "failure" else " (denied)", style="yellow")
    if step.target_env not in (None, "unknown"):
        what.append(f" [{step.target_env}]", style=_env_style(step.target_env))
    cell = [what]
    if step.detail and step.detail != step.what:
        cell.append(evidence(step.detail, "dim"))
    cell += [styled(("  ", "dim"), (row_note(row), "dim")) for row in step.rows[1:]]
    return stacked(cell)


def steps_table(report: TimelineReport) -> Group:
    table = FitTable(
        [
            Column("T+ ms", whole=True, justify="right"),
            Column("sources", whole=True),
            Column("step", shrink_first=True),
            Column("fires", whole=True, optional=True),
            Column("actor", optional=True),  # last: the first left out on a narrow terminal
        ],
        title=report.title,
    )
    for step in report.steps:
        table.add_row(
            f"{step.offset_ms:,}",
            stacked(step.sources),
            step_cell(step),
            stacked(evidence(rule, "bold red") for rule in step.fired),
            evidence(step.actor or "-"),
        )
    start = report.start.isoformat(timespec="milliseconds") if report.start else "-"
    lines: list[RenderableType] = [table, evidence(f"T+0 = {start} UTC. {gap_sentence(report)}")]
    if report.count_line:
        lines.append(evidence(report.count_line))
    return Group(*lines)


def incidents_table(rows: list[dict[str, Any]], count_line: str | None = None) -> FitTable:
    """The incidents, one line each; the title says how many matched in all (`count_line`,
    else the rows given)."""
    table = FitTable(
        [
            Column("id", whole=True),
            Column("severity", whole=True),
            Column("status", whole=True),
            Column("started (UTC)", whole=True),
            Column("duration", whole=True, justify="right", optional=True),
            Column("findings", whole=True, justify="right", optional=True),
            Column("actor", optional=True),
            Column("title", shrink_first=True),
        ],
        title=f"Incidents: {count_line}" if count_line else f"Incidents ({len(rows)})",
    )
    for row in rows:
        table.add_row(
            row["incident_id"][:12],  # the prefix every command accepts
            severity(row["severity"]),
            row["status"],
            row["started"].strftime("%Y-%m-%d %H:%M:%S") if row["started"] else "-",
            f"{(row['duration_ms'] or 0) / 1000:,.1f} s",
            str(row["findings"]),
            evidence(first_and_more(row.get("actors"))),
            evidence(row["title"]),
        )
    return table


def first_and_more(values: list[str] | None) -> str:
    """'arn:...:user/a +2': the first value and how many others."""
    if not values:
        return "-"
    return values[0] + (f" +{len(values) - 1}" if len(values) > 1 else "")


def _session_label(session_id: str) -> str:
    return f"{session_id} (shell, inferred)" if session_id.startswith("shell:") else session_id


def incident_view(incident: Incident) -> Group:
    """The incident's head as label/value lines (values wrap at spaces; ids stay on one
    line), then its findings."""
    style = SEVERITY_STYLE.get(incident.severity, "")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="ellipsis")
    head.add_row("incident", evidence(incident.incident_id))
    head.add_row("title", evidence(incident.title, style))
    head.add_row("status", evidence(f"{incident.status} ({incident.severity})"))
    if incident.started and incident.ended:
        window = styled(
            f"{incident.started.isoformat(timespec='milliseconds')} → "
            f"{incident.ended.isoformat(timespec='milliseconds')} (",
            (f"{incident.duration_ms:,} ms", "bold"),
            ")",
        )
    else:  # findings on untimed history lines (bash without timestamps)
        window = evidence("unknown (untimed events)")
    head.add_row("window", window)
    head.add_row("sessions", stacked(map(_session_label, incident.sessions)) or evidence("-"))
    first = incident.first_destructive
    if first:
        when = "at an unknown time"
        if first["time"] and incident.started:
            when = f"at T+{round((first['time'] - incident.started).total_seconds() * 1000):,} ms"
        head.add_row(
            "first destructive call",
            styled(
                (first["operation"] or "", "bold red"),
                f" {when} on {first['target'] or '-'} ({first['status']})",
            ),
        )
    radius = [
        styled(
            (env, _env_style(env)),
            ": "
            + ", ".join(
                f"{t['target']} ({', '.join(filter(None, t['operations'])) or '-'}"
                f"{'; provider confirmed' if t['provider_confirmed'] else ''})"
                for t in targets
            ),
        )
        for env, targets in incident.blast_radius.items()
    ]
    head.add_row("blast radius", stacked(radius) if radius else evidence("nothing destroyed"))
    creds = [
        f"{c['fingerprint']}: seen in {', '.join(filter(None, c['seen_in'] or [])) or '-'}; "
        f"used by {', '.join(filter(None, c['used_by'] or [])) or '-'}"
        for c in incident.credentials
    ]
    head.add_row("credentials", stacked(creds) if creds else evidence("none seen"))
    return Group(head, findings_table(incident.findings))
