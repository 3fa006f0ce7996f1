"""SQL over the store (read-only): the analyst views and every table."""

from __future__ import annotations

import duckdb
import streamlit as st

from agentaudit.dashboards.data import stop_unless_ready, store
from agentaudit.store.views import VIEWS

LIMIT = 1000
DEFAULT = "SELECT operation, target, target_env, status, provider_confirmed\nFROM destructive_events\nORDER BY time"

st.title("SQL")
stop_unless_ready()
with st.expander("Analyst views"):
    for view in VIEWS:
        st.markdown(f"- **{view.name}**: {view.description}")
query = st.text_area("Query (read-only)", value=DEFAULT, height=140)
if query.strip():
    with store() as opened:
        try:
            result = opened.con.sql(query)
            table = result.to_arrow_table() if result is not None else None
        except duckdb.Error as exc:
            st.error(str(exc).splitlines()[0])
            st.stop()
    if table is None:
        st.success("ok")
    else:
        st.caption(
            f"{table.num_rows} rows" + (f" (first {LIMIT} shown)" if table.num_rows > LIMIT else "")
        )
        st.table(table.slice(0, LIMIT).to_pandas())
