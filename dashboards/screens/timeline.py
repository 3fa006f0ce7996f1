"""One incident's timeline: a chart of every row by source, and the steps."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from agentaudit.analyst.hints import empty_store_hint
from agentaudit.analyst.incidents import list_incidents
from agentaudit.analyst.timeline_render import gap_sentence, lane_order
from agentaudit.analyst.timeline_steps import report_for, row_note
from agentaudit.dashboards.data import stop_unless_ready, with_store
from agentaudit.dashboards.widgets import incident_picker

st.title("Timeline")
stop_unless_ready()
incidents = with_store(list_incidents)
if not incidents:
    st.info(with_store(empty_store_hint) or "No incidents.")
    st.stop()

chosen = incident_picker(incidents)
report = with_store(lambda s: report_for(s, incident=chosen))
st.header(report.title)
st.markdown(gap_sentence(report))

frame = pd.DataFrame(
    [
        {
            "T+ ms": row.offset_ms,
            "source": row.source,
            "what": row.what,
            "target": row.target or "",
            "environment": row.target_env or "",
            "destructive": "destructive" if row.destructive else "other",
            "step": row.call_key,
            "fires": ", ".join(row.fired),
        }
        for row in report.rows
    ]
)
lanes = lane_order(report)
base = alt.Chart(frame).encode(
    x=alt.X("T+ ms:Q", title="T+ ms"),
    y=alt.Y("source:N", sort=lanes, title=None),
)
links = base.mark_line(strokeDash=[4, 3], color="#999").encode(detail="step:N")
points = base.mark_circle(size=140, opacity=1).encode(
    color=alt.Color(
        "destructive:N",
        scale=alt.Scale(domain=["destructive", "other"], range=["#d73a49", "#0366d6"]),
        legend=alt.Legend(title=None, orient="top"),
    ),
    tooltip=["T+ ms", "source", "what", "target", "environment", "fires"],
)
# findings flagged above the top lane at the step they fire on; late ones right-aligned
span = max(int(frame["T+ ms"].max()), 1)
fired = pd.DataFrame(
    [
        {
            "T+ ms": s.offset_ms,
            "source": lanes[0],
            "fires": "⚑ " + ", ".join(s.fired),
            "late": s.offset_ms > 0.6 * span,
        }
        for s in report.steps
        if s.fired
    ],
    columns=["T+ ms", "source", "fires", "late"],
)
flag_base = alt.Chart(fired).encode(x="T+ ms:Q", y=alt.Y("source:N", sort=lanes), text="fires:N")
flags = [
    flag_base.transform_filter(alt.datum.late == late).mark_text(
        dy=-18, color="#b31d28", fontWeight="bold", align="right" if late else "left"
    )
    for late in (False, True)
]
chart = alt.layer(links, points, *flags).properties(height=100 + 60 * len(lanes))
st.altair_chart(chart, width="stretch")

st.subheader("Steps")
st.table(
    [
        {
            "T+ ms": f"{step.offset_ms:,}",
            "sources": ", ".join(step.sources),
            "step": step.what + (" (refused)" if step.status == "failure" else ""),
            "detail": step.detail,
            "linked rows": "; ".join(row_note(r) for r in step.rows[1:]),
            "environment": step.target_env or "",
            "fires": ", ".join(step.fired),
        }
        for step in report.steps
    ]
)
