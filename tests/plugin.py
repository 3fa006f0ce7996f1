"""Fixtures for every test, in tests/ and beside the modules (loaded with `-p tests.plugin`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentaudit.enrich.secrets import Redactor
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """No test touches the user's real data directory."""
    home = tmp_path_factory.mktemp("agentaudit-home")
    monkeypatch.setenv("AGENTAUDIT_HOME", str(home))
    monkeypatch.delenv("AGENTAUDIT_DB", raising=False)
    return home


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store.duckdb") as s:
        yield s


@pytest.fixture
def redactor():
    return Redactor(TEST_KEY)


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = Path(os.environ.get("AGENTAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path} (set AGENTAUDIT_CORPUS)")
    return path


@pytest.fixture(scope="session")
def shared(corpus) -> Path:
    """The shared reference folder beside the corpus (schemas: OCSF, ECS, Sigma)."""
    path = Path(os.environ.get("AGENTAUDIT_SHARED", corpus.parent))
    if not (path / "ecs-schema").is_dir():
        pytest.skip(f"shared schemas not found at {path} (set AGENTAUDIT_SHARED)")
    return path
