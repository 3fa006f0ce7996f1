"""The read-only Streamlit dashboard over an agentaudit store (`agentaudit dashboard`)."""

from __future__ import annotations

from pathlib import Path


def app_path() -> Path:
    return Path(__file__).with_name("app.py")
