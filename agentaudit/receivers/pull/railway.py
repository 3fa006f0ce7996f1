"""Pull the Railway workspace audit log through its GraphQL API (`auditLogs`), page by page.

Railway keeps audit events for as little as 48 hours (Free/Trial/Hobby), so this runs on an
interval. Each run asks for the events after the stored cursor (and, as a second guard, from
the last `createdAt` seen), follows `pageInfo.endCursor` while `hasNextPage`, writes the raw
responses one a line to a new file under `<home>/railway/<workspace>/` and ingests that file
with the `railway.audit` collector (event ids are Railway's, so an overlap adds nothing). The
cursor is saved only after the pages are stored: a failed run is retried from where the last
good one stopped.

The token is read from an environment variable (never from the command line, never written).
Account and workspace tokens go in `Authorization: Bearer`, team tokens in `Team-Access-Token`.
HTTP is stdlib urllib: one POST per page needs no client library.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.enrich.secrets import Redactor
from agentaudit.health.pulls import record_pull
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.retry import Outcome, call_with_retries
from agentaudit.store import Store

ENDPOINT = "https://backboard.railway.com/graphql/v2"
TOKEN_ENV = "RAILWAY_API_TOKEN"
PAGE_SIZE = 100
MAX_PAGES = 10_000  # a safety stop for a server that never says hasNextPage: false
RETRIES = 3

QUERY = """
query AgentauditAuditLogs($workspaceId: String!, $first: Int!, $after: String,
                          $filter: AuditLogFilterInput) {
  auditLogs(workspaceId: $workspaceId, first: $first, after: $after, filter: $filter) {
    edges {
      cursor
      node {
        id eventType createdAt workspaceId projectId environmentId payload context
        project { name }
        environment { id name }
      }
    }
    pageInfo { endCursor hasNextPage }
  }
}
""".strip()


class PullError(RuntimeError):
    """The API refused or failed; the stored cursor is unchanged."""


@dataclass
class PullReport:
    workspace_id: str
    pages: int = 0
    events: int = 0
    ingested: int = 0
    duplicate: int = 0
    quarantined: int = 0
    cursor: str | None = None
    file: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return vars(self)


def state_dir(workspace_id: str) -> Path:
    path = paths.home() / "railway" / _safe(workspace_id)
    paths.ensure_private_dir(path)
    return path


def load_state(workspace_id: str) -> dict[str, Any]:
    path = state_dir(workspace_id) / "cursor.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def save_state(workspace_id: str, state: dict[str, Any]) -> None:
    path = state_dir(workspace_id) / "cursor.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def pull_railway(
    store: Store,
    workspace_id: str,
    *,
    token: str | None = None,
    token_env: str = TOKEN_ENV,
    team_token: bool = False,
    endpoint: str = ENDPOINT,
    page_size: int = PAGE_SIZE,
    redactor: Redactor | None = None,
    timeout: float = 30.0,
    interval: float | None = None,
) -> PullReport:
    """One pull: every page after the stored cursor, stored raw, ingested, cursor saved. Its
    outcome is kept for `agentaudit sources --health` (a puller that keeps failing)."""
    try:
        report = _pull(
            store, workspace_id, token=token, token_env=token_env, team_token=team_token,
            endpoint=endpoint, page_size=page_size, redactor=redactor, timeout=timeout,
        )  # fmt: skip
    except PullError as exc:
        record_pull("railway", workspace_id, ok=False, error=str(exc), interval=interval)
        raise
    record_pull("railway", workspace_id, ok=True, interval=interval)
    return report


def _pull(
    store: Store,
    workspace_id: str,
    *,
    token: str | None,
    token_env: str,
    team_token: bool,
    endpoint: str,
    page_size: int,
    redactor: Redactor | None,
    timeout: float,
) -> PullReport:
    token = token or os.environ.get(token_env)
    if not token:
        raise PullError(f"no Railway token: set the {token_env} environment variable")
    state = load_state(workspace_id)
    report = PullReport(workspace_id)
    after = state.get("cursor")
    since = state.get("last_created_at")
    pages: list[dict[str, Any]] = []
    last_created = since
    for _ in range(MAX_PAGES):
        variables: dict[str, Any] = {
            "workspaceId": workspace_id,
            "first": page_size,
            "after": after,
        }
        if since:
            variables["filter"] = {"startDate": since}
        page = _post(endpoint, token, team_token, {"query": QUERY, "variables": variables}, timeout)
        logs = (page.get("data") or {}).get("auditLogs") or {}
        edges = logs.get("edges") or []
        pages.append(page)
        report.pages += 1
        report.events += len(edges)
        for edge in edges:
            created = ((edge or {}).get("node") or {}).get("createdAt")
            if created and (last_created is None or created > last_created):
                last_created = created
        info = logs.get("pageInfo") or {}
        if info.get("endCursor"):
            after = info["endCursor"]
        if not info.get("hasNextPage") or not edges:
            break
    if report.events:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        out = state_dir(workspace_id) / f"auditlogs-{stamp}.ndjson"
        with out.open("w") as fh:
            for page in pages:
                fh.write(json.dumps(page, separators=(",", ":")) + "\n")
        os.chmod(out, 0o600)
        ingested: IngestReport = ingest_paths(
            store, [out], source="railway.audit", redactor=redactor
        )
        report.file = str(out)
        report.ingested, report.duplicate = ingested.ingested, ingested.duplicate
        report.quarantined = ingested.quarantined
    report.cursor = after
    save_state(
        workspace_id,
        {
            "cursor": after,
            "last_created_at": last_created,
            "pulled_at": datetime.now(UTC).isoformat(),
        },
    )
    return report


def poll_railway(
    store: Store,
    workspace_id: str,
    *,
    interval: float,
    runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_report: Callable[[PullReport], None] | None = None,
    **kwargs: Any,
) -> list[PullReport]:
    """Pull every `interval` seconds (`runs` times, or forever); a failed run is reported, not fatal."""
    reports: list[PullReport] = []
    done = 0
    while runs is None or done < runs:
        try:
            report = pull_railway(store, workspace_id, interval=interval, **kwargs)
        except PullError as exc:
            report = PullReport(workspace_id, errors=[str(exc)])
        reports.append(report)
        if on_report:
            on_report(report)
        done += 1
        if runs is None or done < runs:
            sleep(interval)
    return reports


def _post(
    endpoint: str,
    token: str,
    team_token: bool,
    body: dict[str, Any],
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "User-Agent": "agentaudit-railway-pull/1"}
    if team_token:
        headers["Team-Access-Token"] = token
    else:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode()

    def send() -> Outcome:
        request = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Outcome(True, response.status, False, "", value=json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            wait = exc.headers.get("Retry-After")
            return Outcome(
                False,
                exc.code,
                exc.code in (429, 502, 503, 504),  # Railway's transient answers
                f"Railway API answered HTTP {exc.code}",
                retry_after=float(wait) if wait and wait.isdigit() else None,
            )
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            return Outcome(False, None, False, f"Railway API unreachable or not JSON: {exc}")

    outcome = call_with_retries(send, attempts=RETRIES + 1, base_delay=1.0, sleep=sleep)
    if not outcome.ok:
        raise PullError(outcome.detail)
    page = outcome.value
    if not isinstance(page, dict):
        raise PullError("Railway API answered something that is not a JSON object")
    if page.get("errors") and not (page.get("data") or {}).get("auditLogs"):
        messages = "; ".join(
            str(e.get("message", e)) for e in page["errors"] if isinstance(e, dict)
        )
        raise PullError(f"Railway API errors: {messages or page['errors']}")
    return page


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "workspace"
