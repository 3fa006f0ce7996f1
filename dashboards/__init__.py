"""The read-only Streamlit dashboard over an agentaudit store (`agentaudit dashboard`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path


def app_path() -> Path:
    return Path(__file__).with_name("app.py")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the dashboard on this machine (no token needed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
