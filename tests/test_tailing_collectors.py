"""Collectors read in pieces, as `watch` tails them: the same events as one whole read."""

from __future__ import annotations

import json

from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import scenario_path


def test_a_zsh_command_repeated_later_is_a_new_event_when_tailed(store, tmp_path):
    history = tmp_path / "zsh_history"
    history.write_bytes(b": 1777058295:0;git status\n")
    ingest_paths(store, [history])
    with history.open("ab") as fh:
        fh.write(b": 1777058400:0;git status\n")
    assert ingest_paths(store, [history]).ingested == 1
    assert store.count("events") == 2


def test_a_cursor_after_line_read_later_joins_its_before_line(store, tmp_path):
    lines = (scenario_path("pocketos") / "cursor-hooks.jsonl").read_text().splitlines()
    before = next(i for i, line in enumerate(lines) if "beforeShellExecution" in line)
    hooks = tmp_path / "hooks.jsonl"
    hooks.write_text(lines[before] + "\n")
    ingest_paths(store, [hooks])
    with hooks.open("a") as fh:
        fh.write(lines[before + 1] + "\n")
    ingest_paths(store, [hooks])
    assert json.loads(lines[before + 1])["payload"]["hook_event_name"] == "afterShellExecution"
    calls = store.rows("SELECT DISTINCT tool_call_id FROM events")
    assert len(calls) == 1
