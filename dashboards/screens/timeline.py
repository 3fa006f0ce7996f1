"""One incident's timeline: the chart of every row by source (the same SVG as the HTML export:
labels never overlap, dense flags are counted with the detail on hover), and the steps."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from agentaudit.analyst.hints import empty_store_hint
from agentaudit.analyst.incidents import find_incidents, incident_facets
from agentaudit.analyst.timeline_render import chart_height, gap_sentence, timeline_svg
from agentaudit.analyst.timeline_steps import filter_steps, report_for, row_note
from agentaudit.dashboards.data import scrubbed_row, stop_unless_ready, with_store
from agentaudit.dashboards.widgets import coloured, filter_bar, incident_picker
from agentaudit.enrich.secrets import scrub

STEPS_SHOWN = 500

st.title("Timeline")
stop_unless_ready()
facets = with_store(incident_facets)
filters = filter_bar(facets, key="timeline", limit=100)
page = with_store(lambda s: find_incidents(s, filters))
if not page.total:
    st.info(with_store(empty_store_hint) or f"No incidents match: {filters.describe()}.")
    st.stop()
st.caption(page.count_line("incident"))

chosen = incident_picker(page.rows)
whole = with_store(lambda s: report_for(s, incident=chosen))
st.header(whole.title)
st.markdown(gap_sentence(whole))
# a frame of its own: st.html's sanitiser drops inline SVG. Safe to embed: timeline_svg
# escapes every piece of store text and writes no script
svg = scrub(timeline_svg(whole)) or ""
st.iframe(
    f'<!DOCTYPE html><meta charset="utf-8"><body style="margin:0">{svg}</body>',
    height=chart_height(svg) + 8,
)

# the steps the filters name (who, which credential, source, environment, when); severity and
# status are the incident's, not a step's
step_filters = replace(filters, severity=(), status=None, sort="oldest", limit=STEPS_SHOWN)
report = filter_steps(whole, step_filters)
st.subheader("Steps")
st.caption(report.count_line or "")
st.table(
    coloured(
        [
            scrubbed_row(
                {
                    "T+ ms": f"{step.offset_ms:,}",
                    "sources": ", ".join(step.sources),
                    "actor": step.actor or "",
                    "severity": step.severity or "",
                    "step": step.what + (" (refused)" if step.status == "failure" else ""),
                    "detail": step.detail,
                    "linked rows": "; ".join(row_note(r) for r in step.rows[1:]),
                    "environment": step.target_env or "",
                    "fires": ", ".join(step.fired),
                }
            )
            for step in report.steps
        ]
    )
)
