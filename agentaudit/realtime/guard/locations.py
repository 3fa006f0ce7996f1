"""Where the resident helper listens (stdlib + agentaudit.paths only: the client imports it)."""

from __future__ import annotations

import os
from pathlib import Path

from agentaudit import paths

SOCKET_ENV = "AGENTAUDIT_GUARD_SOCKET"


def default_socket_path() -> Path:
    override = os.environ.get(SOCKET_ENV)
    return Path(override) if override else paths.home() / "guard.sock"
