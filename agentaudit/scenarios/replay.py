"""Replay a built-in incident scenario and check it against its `expected.yaml`.

A scenario directory holds source files in their real on-disk formats, a README and
`expected.yaml`:

    title: ...
    files:                      # every source file, with the collector that should read it
      - {name: zsh_history, format: zsh EXTENDED_HISTORY, collector: shell.zsh}
      - {name: x.jsonl, format: ..., reader: "Claude Code transcript collector (issue 3)"}
    first_destructive:          # optional: the incident's first destroying step, when no
      command_contains: db:push #   category marks it destructive (counted with those that do)
      nth: 1
    expect:                     # findings that must exist (rule id + severity), optionally
      - {rule: instruction-conflict, severity: critical, needs: [cursor-hooks.jsonl]}
      - {rule: x, severity: high, title_contains: ..., covers: {source: ..., operation: ...}}
                                # (covers: one of the finding's events is one the selector names)

A file no registered collector reads yet is reported, and the expectations that `need` it
are skipped with that reason; everything else must hold. The first critical finding must be
stamped at or before the first destructive event (a call the provider refused is not one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from agentaudit.detect.driver import run_detection
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import ingest_paths
from agentaudit.scenarios import SCENARIOS_DIR, scenario_path
from agentaudit.scenarios.incident import ENVIRONMENTS_ENV, check_incident, select
from agentaudit.store import Store

SPEC_FILE = "expected.yaml"


def scenario_names() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob(f"*/{SPEC_FILE}"))


def load_spec(name: str) -> dict[str, Any]:
    return yaml.safe_load((scenario_path(name) / SPEC_FILE).read_text(encoding="utf-8"))


@dataclass
class ReplayResult:
    name: str
    spec: dict[str, Any]
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> collector it needs
    findings: list[dict[str, Any]] = field(default_factory=list)
    first_destructive: datetime | None = None
    first_critical: datetime | None = None
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)
    incidents: int | None = None  # high or critical alert groups (issue-16 replays)


def replay(name: str, store: Store, redactor: Redactor | None = None) -> ReplayResult:
    """Ingest the scenario's readable files, detect, and check the expectations."""
    spec = load_spec(name)
    environments = spec.get("environments_file")
    if environments:  # the user's environments.yaml, as $AGENTAUDIT_ENVIRONMENTS points at it
        with _environ(ENVIRONMENTS_ENV, str(scenario_path(name) / environments)):
            return _replay(name, spec, store, redactor)
    return _replay(name, spec, store, redactor)


@contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _replay(
    name: str, spec: dict[str, Any], store: Store, redactor: Redactor | None
) -> ReplayResult:
    result = ReplayResult(name, spec)
    directory = scenario_path(name)
    for entry in spec["files"]:
        report = ingest_paths(store, [directory / entry["name"]], redactor=redactor)
        read = report.files[0]
        if read.source is None or read.status == "skipped":
            result.unreadable[entry["name"]] = entry.get("collector") or entry["reader"]
        elif entry.get("collector") and read.source != entry["collector"]:
            result.problems.append(
                f"{entry['name']} was read by {read.source}, expected {entry['collector']}"
            )
    run_detection(store)
    result.findings = store.rows(
        "SELECT * FROM findings WHERE status <> 'resolved' ORDER BY first_seen"
    )
    _check(result, store)
    check_incident(result, store)
    return result


def _check(result: ReplayResult, store: Store) -> None:
    for want in result.spec.get("expect", []):
        label = f"{want['rule']} ({want['severity']})"
        missing = [f for f in want.get("needs", []) if f in result.unreadable]
        if missing:
            needs = ", ".join(f"{f} needs {result.unreadable[f]}" for f in missing)
            result.skipped.append(f"{label}: {needs}")
            continue
        hits = [
            f
            for f in result.findings
            if f["rule_id"] == want["rule"]
            and f["severity"] == want["severity"]
            and want.get("title_contains", "") in f["title"]
            and _covers(f, want.get("covers"), store)
        ]
        if hits:
            result.met.append(label)
        else:
            result.problems.append(f"expected finding missing: {label}")
    result.first_destructive = _first_destructive(result.spec, store)
    criticals = [f["first_seen"] for f in result.findings if f["severity"] == "critical"]
    result.first_critical = min(criticals) if criticals else None
    late = result.first_critical and result.first_destructive
    if late and result.first_critical > result.first_destructive:
        result.problems.append(
            f"first critical finding at {result.first_critical} is after the first "
            f"destructive event at {result.first_destructive}"
        )


def _covers(finding: dict[str, Any], selector: dict[str, Any] | None, store: Store) -> bool:
    """The finding's events include one the selector names (a finding states a whole call:
    its title names the call's first record, not necessarily the one that matters)."""
    if not selector:
        return True
    return bool({e["event_id"] for e in select(store, selector)} & set(finding["event_ids"]))


# The latest instant an event can have happened: a whole-second time covers its second.
_LATEST = "time + CASE WHEN time_precision = 's' THEN INTERVAL 999999 MICROSECOND ELSE INTERVAL 0 SECOND END"


# A call the provider refused (its records of the call all failed: ScopeLocked, AccessDenied)
# destroyed nothing: it is not the first destroying step, whatever it asked for.
_NOT_REFUSED = """NOT coalesce(call_key IN (
    SELECT call_key FROM event_sessions WHERE kind = 'api' AND call_key IS NOT NULL
    GROUP BY call_key HAVING bool_and(coalesce(status = 'failure', false))), false)"""


def _first_destructive(spec: dict[str, Any], store: Store) -> datetime | None:
    """When the first destroying step happened, by its most precise source's reckoning."""
    times = [
        r["t"]
        for r in store.rows(
            f"SELECT min({_LATEST}) AS t FROM event_sessions WHERE destructive AND {_NOT_REFUSED}"
        )
    ]
    declared = spec.get("first_destructive")
    if declared:
        rows = store.rows(
            f"SELECT {_LATEST} AS time FROM event_sessions WHERE kind = 'process' "
            f"AND contains(command, ?) AND {_NOT_REFUSED} ORDER BY time, seq",
            [declared["command_contains"]],
        )
        nth = int(declared.get("nth", 1))
        if len(rows) >= nth:
            times.append(rows[nth - 1]["time"])
    times = [t for t in times if t is not None]
    return min(times) if times else None
