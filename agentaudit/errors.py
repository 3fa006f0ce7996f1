"""The error type for what a user can fix (input, configuration, state of a file)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, configuration or state the user can fix; `str()` is the one line to show.

    The CLI prints it without a traceback (agentaudit/cli/errors.py); subclass it for errors
    of that kind so every command reports them the same way.
    """
