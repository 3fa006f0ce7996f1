"""Why a store could not be opened, each said in one line (the CLI prints it, no traceback)."""

from __future__ import annotations

from agentaudit.errors import UserError


class StoreError(UserError):
    """A store that cannot be used as it is; `str()` is the one line to show."""


class StoreTooNew(StoreError):
    """Written by a newer agentaudit: refused, and left as it is."""


class StoreLocked(StoreError):
    """Another process held the store for longer than the lock timeout."""
