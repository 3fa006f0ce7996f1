"""A real demo store (the PocketOS replay through the whole pipeline), built once per session."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from agentaudit.demo import run_demo
from agentaudit.store import Store


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    result = run_demo(tmp_path_factory.mktemp("analyst-demo"), Console(file=io.StringIO()))
    return result.db_path


@pytest.fixture(scope="session")
def demo_incident(demo_db) -> str:
    """The demo's one incident, as the unambiguous prefix a user types."""
    with Store.open(demo_db, read_only=True) as store:
        (row,) = store.rows("SELECT incident_id FROM incidents")
    return row["incident_id"][:4]


@pytest.fixture
def demo_store(demo_db):
    with Store.open(demo_db, read_only=True) as store:
        yield store


@pytest.fixture
def empty_db(tmp_path) -> Path:
    path = tmp_path / "empty.duckdb"
    Store.open(path).close()
    return path
