"""Findings: what the detectors found, newest first."""

from __future__ import annotations

import streamlit as st

from agentaudit.dashboards.data import cached_rows, stop_unless_ready
from agentaudit.dashboards.widgets import coloured
from agentaudit.taxonomy import SEVERITIES

LIMIT = 500

st.title("Findings")
stop_unless_ready()
most_severe_first = list(reversed(SEVERITIES))
severity = st.multiselect("Severity", most_severe_first, default=most_severe_first)
findings = cached_rows(
    f"""SELECT first_seen, severity, rule_id, title, session_id, len(event_ids) AS events, status
        FROM findings WHERE list_contains(?::VARCHAR[], severity)
        ORDER BY first_seen DESC NULLS LAST, rule_id, finding_id LIMIT {LIMIT}""",
    severity,
)
[matched] = cached_rows(
    "SELECT count(*) AS n FROM findings WHERE list_contains(?::VARCHAR[], severity)", severity
)
if not findings:
    st.info(
        "No findings. Run `agentaudit detect` after ingesting; none may fire, which is good news."
    )
    st.stop()
st.caption(  # the true count, whatever is shown
    f"{matched['n']:,} findings" + (f" (first {LIMIT} shown)" if matched["n"] > LIMIT else "")
)
st.table(
    coloured(
        [
            {
                **row,
                # findings on untimed history lines have no time
                "first_seen": row["first_seen"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
                if row["first_seen"]
                else "-",
            }
            for row in findings
        ]
    )
)
