"""The dashboard's access to the store: read-only, one short-lived connection per query.

The path comes from `--db PATH` after `--` on the streamlit command line, else $AGENTAUDIT_DB,
else the default store. Results are cached briefly so paging around a large store stays quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from agentaudit import paths
from agentaudit.analyst.hints import empty_store_hint
from agentaudit.enrich.secrets import scrub
from agentaudit.store import Store

T = TypeVar("T")
CACHE_SECONDS = 30


def db_path() -> Path:
    import os

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(sys.argv[1:])
    chosen = args.db or os.environ.get("AGENTAUDIT_DB")
    return Path(chosen) if chosen else paths.default_db_path()


@contextmanager
def store():
    """The store read-only and sandboxed; while `watch` or `serve` owns it, the store its
    owner answers (SELECTs over the store only: `agentaudit.owner.sql_gate`)."""
    from agentaudit.owner.client import RemoteStore, owner_for

    owner = owner_for(db_path())
    if owner is not None:
        yield RemoteStore(owner)
        return
    with Store.open(db_path(), read_only=True) as opened:
        yield opened.sandbox()


def with_store(fn: Callable[[Store], T]) -> T:
    with store() as opened:
        return fn(opened)


def cached_rows(sql: str, *params: Any) -> list[dict[str, Any]]:
    # the path is part of the cache key, so two stores never share results
    return _rows_for(str(db_path()), sql, params)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _rows_for(db: str, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    with store() as opened:
        return [scrubbed_row(row) for row in opened.rows(sql, list(params))]


def scrubbed_row(row: dict[str, Any]) -> dict[str, Any]:
    """Text on screen passes `secrets.scrub` (the second gate behind redaction at ingest)."""
    return {k: scrub(v) if isinstance(v, str) else v for k, v in row.items()}


def stop_unless_ready() -> None:
    """Explain and stop the page when there is no store or nothing in it."""
    path = db_path()
    if not path.exists():
        st.info(
            f"No agentaudit store at `{path}`. Run `agentaudit ingest PATH...` or `agentaudit demo`, then start the dashboard with `--db PATH`."
        )
        st.stop()
    hint = with_store(empty_store_hint)
    if hint and "no events" in hint:
        st.info(hint)
        st.stop()
