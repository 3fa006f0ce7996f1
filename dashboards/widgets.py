"""Small pieces shared by the dashboard's pages: the filter bar, the incident picker and the
severity colours."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import streamlit as st

from agentaudit.analyst.filters import INCIDENT_SORTS, Filters
from agentaudit.taxonomy import SEVERITIES

_COLORS = {"critical": "red", "high": "orange", "medium": "violet", "low": "blue", "info": "gray"}
# cell styles for tables (pandas Styler): the same colours as the badges
_CELL_STYLES = {
    "critical": "background-color: #d73a49; color: white; font-weight: bold",
    "high": "background-color: #fb8532; color: white",
    "medium": "background-color: #e1d5f5",
    "low": "background-color: #dbedff",
    "info": "color: #6a737d",
}
ANY = "(any)"


def incident_picker(incidents: list[dict[str, Any]]) -> str:
    """A select box of incidents (newest first); remembers the choice across pages."""
    ids = [row["incident_id"] for row in incidents]
    labels = {
        row["incident_id"]: f"{row['incident_id'][:12]} · {row['title']}" for row in incidents
    }
    current = st.session_state.get("incident")
    index = ids.index(current) if current in ids else 0
    chosen = st.selectbox("Incident", ids, index=index, format_func=labels.__getitem__)
    st.session_state["incident"] = chosen
    return chosen


def severity_badge(severity: str, status: str) -> str:
    return f":{_COLORS.get(severity, 'gray')}-background[{severity}] · {status}"


def severity_cell(value: object) -> str:
    return _CELL_STYLES.get(str(value), "")


def coloured(rows: list[dict[str, Any]], column: str = "severity") -> Any:
    """A table whose severity cells are coloured (a pandas Styler; st.table shows it)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty or column not in frame:
        return frame
    return frame.style.map(severity_cell, subset=[column])


def filter_bar(
    facets: dict[str, list[str]], *, key: str, limit: int, sorts: list[str] | None = None
) -> Filters:
    """Severity, time range, actor, credential, source, environment, status, limit and order.

    `facets` holds the values the store has (actors, sources, environments, statuses) and
    `critical_by_actor` the actors with a critical incident: choosing one there shows that
    actor's critical incidents in one step."""
    most_severe_first = list(reversed(SEVERITIES))
    quick = st.selectbox(
        "Critical incidents of",
        [ANY, *facets.get("critical_by_actor", [])],
        key=f"{key}-quick",
        help="One choice: this actor's critical incidents (clears the actor and severity below).",
    )
    with st.expander("Filters", expanded=quick == ANY):
        first, second, third = st.columns(3)
        severity = first.multiselect(
            "Severity", most_severe_first, default=most_severe_first, key=f"{key}-severity"
        )
        actor = second.selectbox("Actor", [ANY, *facets.get("actors", [])], key=f"{key}-actor")
        credential = third.text_input(
            "Credential contains", key=f"{key}-credential", placeholder="key id or fingerprint"
        )
        source = first.selectbox("Source", [ANY, *facets.get("sources", [])], key=f"{key}-source")
        environment = second.selectbox(
            "Environment", [ANY, *facets.get("environments", [])], key=f"{key}-environment"
        )
        status = third.selectbox("Status", [ANY, *facets.get("statuses", [])], key=f"{key}-status")
        since = first.date_input("From (UTC)", value=None, key=f"{key}-since")
        until = second.date_input("To (UTC)", value=None, key=f"{key}-until")
        choices = sorts or list(INCIDENT_SORTS)
        sort = third.selectbox("Order", choices, key=f"{key}-sort")
        shown = first.number_input(
            "Show at most", min_value=1, max_value=5000, value=limit, step=50, key=f"{key}-limit"
        )
    if quick != ANY:
        actor, severity = quick, ["critical"]
    return Filters(
        severity=tuple(severity) if len(severity) < len(SEVERITIES) else (),
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until, time.max, UTC) if until else None,
        actor=None if actor == ANY else actor,
        credential=credential.strip() or None,
        source=None if source == ANY else source,
        environment=None if environment == ANY else environment,
        status=None if status == ANY else status,
        limit=int(shown),
        sort=sort,
        exact_actor=True,  # chosen from the store's own values
    )
