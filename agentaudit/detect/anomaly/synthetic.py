"""Generated normal work: agent and shell sessions of ordinary development, for baselines.

Used by the benchmarks (the model's benign background, the million-event store) and by the
model's tests. Every distinct step is built once as a canonical event and enriched by the real
enrichment (so its analysis columns are what ingest would store), then copied with its own
time, session and id. Sessions start at any hour over a month: time of day carries no signal.
Ordinary work includes some destructive steps (`rm -rf node_modules`, `git reset --hard`,
deleting a staging pod) so that "destructive" alone is not what the model learns.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from agentaudit.enrich.event import enrich
from agentaudit.enrich.secrets import Redactor
from agentaudit.schema import new_event, stable_id

START = datetime(2026, 3, 1, tzinfo=UTC)
KEY = b"agentaudit-synthetic-key-0123456"

# (weight, kind, text): process commands, file reads/edits, prompts, provider records.
STEPS: list[tuple[int, str, str]] = [
    (30, "process", "git status"),
    (20, "process", "git diff"),
    (8, "process", "git add -A"),
    (8, "process", "git commit -m 'wip: tests'"),
    (3, "process", "git push origin HEAD"),
    (3, "process", "git pull --rebase"),
    (20, "process", "npm test"),
    (10, "process", "npm run build"),
    (6, "process", "npm install"),
    (15, "process", "pytest -q"),
    (10, "process", "ls -la"),
    (8, "process", "cat README.md"),
    (10, "process", "grep -rn TODO src"),
    (8, "process", "rg 'def main' ."),
    (5, "process", "make lint"),
    (4, "process", "docker compose up -d"),
    (3, "process", "docker compose logs api"),
    (3, "process", "python manage.py migrate --settings=app.settings.staging"),
    (3, "process", "kubectl get pods -n staging"),
    (2, "process", "terraform plan"),
    (2, "process", "aws s3 ls"),
    (3, "process", "curl -s https://api.example.com/health"),
    (3, "process", "railway status"),
    (2, "process", "railway logs"),
    (3, "process", "rm -rf node_modules"),
    (3, "process", "rm -rf build dist"),
    (1, "process", "git reset --hard HEAD"),
    (1, "process", "git clean -fdx"),
    (1, "process", "kubectl delete pod api-7f9c -n staging"),
    (1, "process", "git branch -D old-feature"),
    (25, "file", "src/app.ts"),
    (15, "file", "src/models/user.py"),
    (10, "file", "tests/test_api.py"),
    (8, "file", "package.json"),
    (5, "file", "README.md"),
    (8, "message", "Please fix the failing test in the users module."),
    (5, "message", "Add pagination to the orders endpoint."),
    (4, "message", "Refactor the settings loader and keep behaviour the same."),
    (3, "message", "Why does the build fail on CI?"),
    (3, "api", "deployment.created"),
    (1, "api", "variable.updated"),
]
_WEIGHTS = [w for w, _, _ in STEPS]


class SessionGenerator:
    """Deterministic normal sessions (seeded), as enriched canonical event dicts."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.redactor = Redactor(KEY)
        self._prototypes: dict[tuple[int, str], dict[str, Any]] = {}

    def _prototype(self, index: int, project: str) -> dict[str, Any]:
        key = (index, project)
        if key not in self._prototypes:
            _, kind, text = STEPS[index]
            columns: dict[str, Any] = {
                "kind": kind,
                "cwd": f"/home/dev/{project}",
                "status": "success",
            }
            if kind == "process":
                columns.update(command=text, tool_name="Shell")
            elif kind == "file":
                path = f"/home/dev/{project}/{text}"
                columns.update(operation="read", paths=[path], target=path, tool_name="Read")
            elif kind == "message":
                columns.update(operation="user_prompt", text=text)
            else:
                columns.update(operation=text, target=f"svc-{project}", target_env="staging")
            source = "railway.audit" if kind == "api" else "cursor.hooks"
            event = new_event(source, f"proto-{index}-{project}", **columns)
            event.update(time_precision="ms", parser_version="synthetic/1", source_path="synthetic")
            self._prototypes[key] = enrich(event, self.redactor)
        return self._prototypes[key]

    def session(self, number: int, events: int | None = None) -> Iterator[dict[str, Any]]:
        rng = self.rng
        project = f"project-{number % 40}"
        session_id = stable_id("synthetic-session", number)
        when = START + timedelta(seconds=rng.uniform(0, 30 * 86400))
        count = events or rng.randint(20, 200)
        failing = rng.random() < 0.3  # some sessions fight a failing build
        for seq in range(count):
            index = rng.choices(range(len(STEPS)), weights=_WEIGHTS)[0]
            event = dict(self._prototype(index, project))
            event["time"] = when
            event["ingested_at"] = when
            event["seq"] = seq
            event["event_id"] = stable_id("synthetic", number, seq)
            if event["kind"] != "api":
                event["session_id"] = session_id
                event["tool_call_id"] = f"{session_id}-{seq}"
            if failing and event["kind"] == "process" and rng.random() < 0.2:
                event["status"], event["exit_code"] = "failure", 1
            yield event
            when += timedelta(seconds=rng.expovariate(1 / 12))

    def sessions(self, count: int, first: int = 0) -> Iterator[dict[str, Any]]:
        for number in range(first, first + count):
            yield from self.session(number)
