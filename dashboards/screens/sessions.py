"""Sessions: each agent session with its linked shell and provider rows (the `sessions` view)."""

from __future__ import annotations

import streamlit as st

from dashboards.data import cached_rows, stop_unless_ready

LIMIT = 500

st.title("Sessions")
stop_unless_ready()
only_destructive = st.checkbox("Only sessions with destructive steps", value=False)
sessions = cached_rows(
    f"""SELECT session_id, agent, started, duration_ms, events, steps, destructive_steps,
               environments, findings, max_severity, sources
        FROM sessions WHERE destructive_steps > 0 OR NOT ?
        ORDER BY findings DESC, destructive_steps DESC, started DESC LIMIT {LIMIT + 1}""",
    only_destructive,
)
if not sessions:
    st.info("No agent sessions in this store yet.")
    st.stop()
st.caption(
    f"{min(len(sessions), LIMIT)} sessions"
    + (f" (first {LIMIT} shown)" if len(sessions) > LIMIT else "")
)
st.table(
    [
        {
            **row,
            "started": row["started"].strftime("%Y-%m-%d %H:%M:%S"),
            "duration_ms": f"{row['duration_ms']:,}",
            "environments": ", ".join(row["environments"] or []),
            "sources": ", ".join(row["sources"] or []),
        }
        for row in sessions[:LIMIT]
    ]
)
