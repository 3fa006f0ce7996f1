"""One clear line, no traceback, for errors in a user's input or configuration.

Known kinds: `UserError`, files (OSError), YAML, stores DuckDB cannot open, text that is not
UTF-8, and a missing optional package (named with the extra that installs it). Anything else
is a bug and keeps its traceback; AGENTAUDIT_DEBUG=1 shows the traceback for every error.
"""

from __future__ import annotations

import os
import sys

from agentaudit.errors import UserError

DEBUG_ENV = "AGENTAUDIT_DEBUG"

# top-level import name -> the extra that installs it
EXTRAS = {
    "streamlit": "dashboard",
    "altair": "dashboard",
    "uvicorn": "otlp",
    "starlette": "otlp",
    "h11": "otlp",
    "zstandard": "otlp",
    "google": "otlp",
    "nbclient": "notebooks",
    "nbformat": "notebooks",
    "ipykernel": "notebooks",
    "matplotlib": "notebooks",
}


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def describe(exc: BaseException) -> str | None:
    """The line to show for a known kind of error, or None (a bug: keep the traceback)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return _missing_module(exc.name)
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"input is not UTF-8 text ({exc.reason} at byte {exc.start})"
    # these modules are checked only when loaded: the check itself imports nothing
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(exc, yaml.YAMLError):
        return _yaml_error(exc)
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.IOException):
        return str(exc).splitlines()[0].removeprefix("IO Error: ")
    return None


def _missing_module(name: str) -> str:
    top = name.split(".")[0]
    extra = EXTRAS.get(top)
    if extra:
        return f"this needs the {extra!r} extra: pip install 'agentaudit[{extra}]' (no module {name!r})"
    return f"agentaudit is missing the Python package that provides {name!r}; reinstall agentaudit"


def _os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def _yaml_error(exc: BaseException) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return f"invalid YAML: {problem}"
    where = "" if mark.name.startswith("<") else f" in {mark.name}"  # "<unicode string>"
    return f"invalid YAML{where}, line {mark.line + 1}, column {mark.column + 1}: {problem}"
