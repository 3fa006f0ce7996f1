"""Small pieces shared by the dashboard's pages."""

from __future__ import annotations

from typing import Any

import streamlit as st

_COLORS = {"critical": "red", "high": "orange", "medium": "violet", "low": "blue", "info": "gray"}


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
