"""Incidents: every alert group, filtered, and the chosen one whole."""

from __future__ import annotations

import streamlit as st

from agentaudit.analyst.hints import empty_store_hint
from agentaudit.analyst.incidents import find_incidents, get_incident, incident_facets
from agentaudit.dashboards.data import scrubbed_row, stop_unless_ready, with_store
from agentaudit.dashboards.widgets import coloured, filter_bar, incident_picker, severity_badge

st.title("Incidents")
stop_unless_ready()
facets = with_store(incident_facets)
filters = filter_bar(facets, key="incidents", limit=100)
page = with_store(lambda s: find_incidents(s, filters))
if not page.total:
    st.info(
        (with_store(empty_store_hint) or "No incidents match these filters.")
        if not filters.describe()
        else f"No incidents match: {filters.describe()}."
    )
    st.stop()
incidents = page.rows
st.caption(page.count_line("incident"))
st.table(
    coloured(
        [
            scrubbed_row(
                {
                    "id": row["incident_id"][:12],
                    "severity": row["severity"],
                    "status": row["status"],
                    "started (UTC)": row["started"].strftime("%Y-%m-%d %H:%M:%S")
                    if row["started"]
                    else "-",
                    "duration": f"{(row['duration_ms'] or 0) / 1000:,.1f} s",
                    "findings": row["findings"],
                    "actor": ", ".join(row["actors"] or []),
                    "title": row["title"],
                }
            )
            for row in incidents
        ]
    )
)

chosen = incident_picker(incidents)
incident = with_store(lambda s: get_incident(s, chosen))
st.header(incident.title)
st.markdown(severity_badge(incident.severity, incident.status))
cols = st.columns(4)
cols[0].metric("Duration", f"{incident.duration_ms / 1000:.1f} s")
cols[1].metric("Findings", len(incident.findings))
cols[2].metric("Destructive steps", len(incident.destructive_steps))
cols[3].metric("Sessions", len(incident.sessions))

first = incident.first_destructive
if first:
    timed = first["time"] and incident.started  # untimed history lines have no offset
    offset = round((first["time"] - incident.started).total_seconds() * 1000) if timed else None
    outcome = "refused" if first["status"] == "failure" else first["status"]
    st.subheader("First destructive call")
    st.markdown(
        f"**`{first['operation']}`** {f'at T+{offset:,} ms' if timed else 'at an unknown time'} on `{first['target']}` ({outcome})"
    )
    if first["command"]:
        st.code(first["command"], language="bash")

st.subheader("Destructive calls")
st.table(
    [
        {
            "T+ ms": round((s["time"] - incident.started).total_seconds() * 1000)
            if s["time"] and incident.started
            else None,
            "operation": s["operation"],
            "target": s["target"],
            "environment": s["target_env"],
            "status": s["status"],
            "provider confirmed": s["provider_confirmed"],
        }
        for s in incident.destructive_steps
    ]
)

st.subheader("Blast radius")
if incident.blast_radius:
    for env, targets in incident.blast_radius.items():
        for target in targets:
            confirmed = " (confirmed by the provider)" if target["provider_confirmed"] else ""
            st.markdown(
                f"- **{env}**: `{target['target']}` by {', '.join(target['operations'])}{confirmed}"
            )
else:
    st.markdown("Nothing destroyed: every destructive call was refused.")

st.subheader("Credentials involved")
for cred in incident.credentials:
    st.markdown(
        f"- fingerprint `{cred['fingerprint']}`: seen in {', '.join(cred['seen_in'] or ['-'])}; "
        f"used by {', '.join(cred['used_by'] or ['-'])}"
    )
if not incident.credentials:
    st.markdown("No credential fingerprints in this incident.")
st.caption("Sessions: " + ", ".join(incident.sessions))
