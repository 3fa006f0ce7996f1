"""Where the resident helper listens. Standard library only: the hook process imports it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOCKET_ENV = "AGENTAUDIT_GUARD_SOCKET"


def default_socket_path() -> Path:
    override = os.environ.get(SOCKET_ENV)
    if override:
        return Path(override)
    home = os.environ.get("AGENTAUDIT_HOME")
    return (Path(home) if home else _user_data_dir()) / "guard.sock"


def _user_data_dir() -> Path:
    """platformdirs' user_data_dir("agentaudit") (agentaudit.paths.home) on the platforms with
    unix sockets, without importing it: that import was a third of the hook's start-up."""
    if sys.platform == "darwin":
        return Path("~/Library/Application Support/agentaudit").expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "")
    return Path(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.local/share")) / "agentaudit"
