"""agentaudit dashboard: incidents, one incident's timeline, findings, sessions and SQL.

Run with `agentaudit dashboard [--db PATH]` (or `streamlit run dashboards/app.py -- --db PATH`).
The store is opened read-only on every run; nothing here writes. Off loopback the command
requires a token, which each browser session enters once (access.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from agentaudit.dashboards.access import require_token
from agentaudit.dashboards.data import db_path

HERE = Path(__file__).parent / "screens"

st.set_page_config(page_title="agentaudit", page_icon="🛡", layout="wide")
require_token()  # before anything reads the store
pages = [
    st.Page(HERE / "incidents.py", title="Incidents", url_path="incidents", default=True),
    st.Page(HERE / "timeline.py", title="Timeline", url_path="timeline"),
    st.Page(HERE / "findings.py", title="Findings", url_path="findings"),
    st.Page(HERE / "sessions.py", title="Sessions", url_path="sessions"),
    st.Page(HERE / "sql.py", title="SQL", url_path="sql"),
]
st.sidebar.caption(f"Store (read-only): `{db_path()}`")
st.navigation(pages).run()
