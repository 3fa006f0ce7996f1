"""Pullers' health: each run's outcome kept per puller and account, and the pull interval
compared with how long the platform keeps its audit log.

`record_pull` is called by each puller after every run (`<home>/pulls/<puller>-<account>.json`:
last attempt, last success, consecutive failures, last error, interval). A puller that failed
`FAILING_AFTER` runs in a row, or whose interval (its last `--interval`, else `pulls:` in
sources.yaml) is at least the platform's retention, is reported by `agentaudit sources --health`:
events older than the retention are gone before the next pull reads them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.health.config import HealthConfig

FAILING_AFTER = 3
# The shortest retention each platform documents (tests/data/providers/FORMATS.md).
RETENTION: dict[str, tuple[timedelta, str]] = {
    "railway": (timedelta(hours=48), "Railway Free/Trial/Hobby keep 48 h (Pro 30 days)"),
    "terraform-cloud": (timedelta(days=14), "HCP Terraform keeps its audit trail 14 days"),
    "cursor": (timedelta(days=30), "the Cursor Admin API keeps 30 days"),
    "github": (timedelta(days=7), "GitHub keeps Git events 7 days (others 180 days)"),
    "azure-devops": (timedelta(days=90), "Azure DevOps keeps 90 days"),
    "supabase": (
        timedelta(days=1),
        "Supabase Free keeps project logs 1 day (Pro 7, Team 28, Enterprise 90 days)",
    ),
    "gcp": (timedelta(days=30), "Cloud Logging's _Default bucket keeps data access 30 days"),
}


@dataclass
class PullHealth:
    puller: str
    account: str
    last_attempt: str | None
    last_success: str | None
    consecutive_failures: int
    last_error: str | None
    interval_seconds: float | None
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _state_file(puller: str, account: str) -> Path:
    folder = paths.home() / "pulls"
    paths.ensure_private_dir(folder)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{puller}-{account}")
    return folder / f"{safe}.json"


def record_pull(
    puller: str, account: str, *, ok: bool, error: str | None = None, interval: float | None = None
) -> None:
    """Note one run of a puller (atomically: a crash leaves the previous state)."""
    path = _state_file(puller, account)
    try:
        state = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        state = {}
    stamp = datetime.now(UTC).isoformat()
    state.update(puller=puller, account=account, last_attempt=stamp)
    if interval:
        state["interval_seconds"] = interval
    if ok:
        state.update(last_success=stamp, consecutive_failures=0, last_error=None)
    else:
        state["consecutive_failures"] = int(state.get("consecutive_failures") or 0) + 1
        state["last_error"] = error
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def pull_health(config: HealthConfig | None = None) -> list[PullHealth]:
    """Every puller that ran here, and every `pulls:` entry of sources.yaml, with problems."""
    config = config or HealthConfig()
    folder = paths.home() / "pulls"
    states = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            states.append(json.loads(path.read_text()))
        except ValueError:
            continue
    seen = {state.get("puller") for state in states}
    states += [{"puller": p, "account": "(configured)"} for p in config.pulls if p not in seen]
    return [_judge(state, config) for state in states if state.get("puller")]


def _judge(state: dict[str, Any], config: HealthConfig) -> PullHealth:
    puller = str(state["puller"])
    configured = config.pulls.get(puller)
    interval = state.get("interval_seconds") or (configured.total_seconds() if configured else None)
    problems = []
    failures = int(state.get("consecutive_failures") or 0)
    if failures >= FAILING_AFTER:
        problems.append(f"failing: {failures} runs in a row ({state.get('last_error')})")
    kept = RETENTION.get(puller)
    if kept and interval and timedelta(seconds=interval) >= kept[0]:
        problems.append(
            f"interval {timedelta(seconds=interval)} is not shorter than the retention: {kept[1]}"
        )
    return PullHealth(
        puller=puller,
        account=str(state.get("account")),
        last_attempt=state.get("last_attempt"),
        last_success=state.get("last_success"),
        consecutive_failures=failures,
        last_error=state.get("last_error"),
        interval_seconds=interval,
        problems=problems,
    )
