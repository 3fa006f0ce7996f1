"""Sessions: agent sessions with their linked shell and provider rows, and the shell sessions
inferred from history lines no agent ran (the `sessions` view)."""

from __future__ import annotations

import streamlit as st

from agentaudit.dashboards.data import cached_rows, stop_unless_ready

LIMIT = 500
KINDS = ["agent", "shell"]

st.title("Sessions")
stop_unless_ready()
kinds = st.multiselect("Kind (shell: inferred from shell history)", KINDS, default=KINDS)
only_destructive = st.checkbox("Only sessions with destructive steps", value=False)
sessions = cached_rows(
    f"""SELECT session_id, kind, agent, started, duration_ms, events, steps, destructive_steps,
               environments, findings, max_severity, sources
        FROM sessions WHERE list_contains(?::VARCHAR[], kind)
             AND (destructive_steps > 0 OR NOT ?)
        ORDER BY findings DESC, destructive_steps DESC, started DESC NULLS LAST, session_id
        LIMIT {LIMIT + 1}""",
    kinds,
    only_destructive,
)
if not sessions:
    st.info("No sessions of the chosen kinds in this store yet.")
    st.stop()
shown = sessions[:LIMIT]
by_kind = {  # the true counts, whatever is shown
    r["kind"]: r["n"]
    for r in cached_rows(
        """SELECT kind, count(*) AS n FROM sessions WHERE list_contains(?::VARCHAR[], kind)
             AND (destructive_steps > 0 OR NOT ?) GROUP BY kind""",
        kinds,
        only_destructive,
    )
}
total = sum(by_kind.values())
counts = ", ".join(f"{by_kind.get(k, 0):,} {k}" for k in KINDS if k in kinds)
st.caption(f"{total:,} sessions ({counts})" + (f" (first {LIMIT} shown)" if total > LIMIT else ""))
st.table(
    [
        {
            **row,
            # untimed history lines (bash without timestamps) have no start
            "started": row["started"].strftime("%Y-%m-%d %H:%M:%S") if row["started"] else "-",
            "duration_ms": f"{row['duration_ms']:,}" if row["duration_ms"] is not None else "-",
            "environments": ", ".join(row["environments"] or []),
            "sources": ", ".join(row["sources"] or []),
        }
        for row in shown
    ]
)
