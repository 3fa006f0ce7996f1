"""Rich renderings of timelines as steps, and of incidents."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agentaudit.analyst.incidents import Incident
from agentaudit.analyst.render import findings_table
from agentaudit.analyst.timeline_render import gap_sentence
from agentaudit.analyst.timeline_steps import TimelineReport, row_note

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def steps_table(report: TimelineReport) -> Group:
    table = Table(title=report.title, title_justify="left")
    table.add_column("T+ ms", justify="right", no_wrap=True)
    table.add_column("sources", no_wrap=True)
    table.add_column("step", overflow="fold", ratio=3)
    table.add_column("fires", overflow="fold", ratio=1)
    for step in report.steps:
        what = escape(step.what)
        if step.status == "failure":
            what += " [yellow](refused)[/]"
        elif step.status == "denied":
            what += " [yellow](denied)[/]"
        if step.destructive:
            what = f"[bold red]{what}[/]"
        if step.target_env not in (None, "unknown"):
            what += f" [{'bold red' if step.target_env == 'production' else 'cyan'}]"
            what += f"\\[{step.target_env}][/]"
        lines = [what]
        if step.detail and step.detail != step.what:
            lines.append(f"[dim]{escape(step.detail)}[/]")
        lines += [f"[dim]  {escape(row_note(row))}[/]" for row in step.rows[1:]]
        table.add_row(
            f"{step.offset_ms:,}",
            "\n".join(step.sources),
            "\n".join(lines),
            f"[bold red]{escape(chr(10).join(step.fired))}[/]" if step.fired else "",
        )
    start = report.start.isoformat(timespec="milliseconds") if report.start else "-"
    summary = Text(f"T+0 = {start} UTC. {gap_sentence(report)}")
    return Group(table, summary)


def incidents_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Incidents ({len(rows)})", title_justify="left")
    for column in ("id", "severity", "status", "started (UTC)", "duration", "findings", "title"):
        table.add_column(column, overflow="fold", ratio=3 if column == "title" else None)
    for row in rows:
        style = _SEVERITY_STYLE.get(row["severity"], "")
        table.add_row(
            row["incident_id"][:12],
            f"[{style}]{row['severity']}[/]" if style else row["severity"],
            row["status"],
            row["started"].strftime("%Y-%m-%d %H:%M:%S") if row["started"] else "-",
            f"{(row['duration_ms'] or 0) / 1000:,.1f} s",
            str(row["findings"]),
            escape(row["title"]),
        )
    return table


def _session_label(session_id: str) -> str:
    return f"{session_id} (shell, inferred)" if session_id.startswith("shell:") else session_id


def incident_view(incident: Incident) -> Group:
    style = _SEVERITY_STYLE.get(incident.severity, "")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("incident", incident.incident_id)
    head.add_row("title", f"[{style}]{escape(incident.title)}[/]")
    head.add_row("status", f"{incident.status} ({incident.severity})")
    if incident.started and incident.ended:
        head.add_row(
            "window",
            f"{incident.started.isoformat(timespec='milliseconds')} → "
            f"{incident.ended.isoformat(timespec='milliseconds')} "
            f"([bold]{incident.duration_ms:,} ms[/])",
        )
    else:  # findings on untimed history lines (bash without timestamps)
        head.add_row("window", "unknown (untimed events)")
    head.add_row("sessions", "\n".join(map(_session_label, incident.sessions)) or "-")
    first = incident.first_destructive
    if first:
        when = "at an unknown time"
        if first["time"] and incident.started:
            when = f"at T+{round((first['time'] - incident.started).total_seconds() * 1000):,} ms"
        head.add_row(
            "first destructive call",
            f"[bold red]{escape(first['operation'] or '')}[/] {when} "
            f"on {escape(first['target'] or '-')} ({first['status']})",
        )
    radius = [
        f"[{'bold red' if env == 'production' else 'cyan'}]{env}[/]: "
        + ", ".join(
            f"{escape(t['target'])} ({', '.join(filter(None, t['operations'])) or '-'}"
            f"{'; provider confirmed' if t['provider_confirmed'] else ''})"
            for t in targets
        )
        for env, targets in incident.blast_radius.items()
    ]
    head.add_row("blast radius", "\n".join(radius) or "nothing destroyed")
    creds = [
        f"{c['fingerprint']}: seen in {', '.join(filter(None, c['seen_in'] or [])) or '-'}; "
        f"used by {', '.join(filter(None, c['used_by'] or [])) or '-'}"
        for c in incident.credentials
    ]
    head.add_row("credentials", escape("\n".join(creds)) or "none seen")
    return Group(head, findings_table(incident.findings))
