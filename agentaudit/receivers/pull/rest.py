"""Pull a platform's audit log through its REST API, page by page, from a stored cursor.

One engine for every platform (`Platform`: its URL, auth header, first request from the
cursor, how its pages continue, where a record's time is); each platform is a small module
beside this one (`cloudflare.py`, `gitlab.py`, ...). One run: the first request asks for
records since the stored cursor (the newest record time already pulled), pages are followed
as the API says (cursor, Link header, continuation token, page number, `after_id`), the raw
records are written one a line to `<home>/pulls/<platform>/<account>/records-<time>.ndjson` and
ingested with the platform's collector (event ids are the platform's: an overlap adds
nothing), then the cursor is saved. A failed run leaves the cursor where the last good one
put it. 429 and 5xx are retried by the shared retry layer (`agentaudit/retry.py`: exponential
backoff with jitter, or the server's `Retry-After` / the platform's reset header); 401/403
end the run at once with one line naming the token variable.
HTTP is stdlib urllib: a GET per page needs no client library.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.enrich.secrets import Redactor
from agentaudit.health.pulls import record_pull
from agentaudit.ingest import ingest_paths
from agentaudit.retry import Outcome, call_with_retries, outcome_for_status
from agentaudit.store import Store

MAX_PAGES = 10_000  # a safety stop for a server that never says it is done
RETRIES = 4
MAX_WAIT_SECONDS = 300.0  # Cloudflare blocks for 5 minutes after its limit

Request = tuple[str, dict[str, str]]  # URL, query parameters


class PullError(RuntimeError):
    """The API refused or failed; the stored cursor is unchanged. `str()` is one line."""


@dataclass(frozen=True)
class Platform:
    name: str  # pull command and state folder: cloudflare
    title: str  # Cloudflare
    collector: str  # source of the collector that reads its pages
    endpoint: str  # URL, `{account}` filled in
    token_env: str
    auth: Callable[[str], dict[str, str]]  # token -> request headers
    first: Callable[[str | None, int], dict[str, str]]  # (cursor, page size) -> parameters
    next: Callable[[Any, Mapping[str, str], Request], Request | None]  # page, headers, request
    records: Callable[[Any], list[Any]]  # the records of one page
    time_of: Callable[[dict[str, Any]], str | None]  # a record's time, ISO 8601 UTC
    account_help: str = "account id"
    rate_reset_header: str | None = None  # epoch seconds when the limit resets (Vercel)
    walks_days: bool = False  # one request a day (Heroku): an empty day does not end the pull
    # a failure told in a 200 answer's body (Supabase's `error`), else None
    page_error: Callable[[Any], str | None] = lambda page: None
    # a 403 that is a rate limit, not a refused token (GitHub's headers), else never
    throttled_403: Callable[[Mapping[str, str]], bool] = lambda headers: False


@dataclass
class PullReport:
    platform: str
    account: str
    pages: int = 0
    events: int = 0
    ingested: int = 0
    duplicate: int = 0
    quarantined: int = 0
    retries: int = 0
    cursor: str | None = None
    file: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return vars(self)


def state_dir(platform: str, account: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account) or "account"
    path = paths.home() / "pulls" / platform / safe
    paths.ensure_private_dir(path.parent)
    paths.ensure_private_dir(path)
    return path


def load_cursor(platform: str, account: str) -> str | None:
    path = state_dir(platform, account) / "cursor.json"
    try:
        return json.loads(path.read_text()).get("cursor") if path.exists() else None
    except ValueError:
        return None


def save_cursor(platform: str, account: str, cursor: str | None) -> None:
    path = state_dir(platform, account) / "cursor.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"cursor": cursor, "pulled_at": datetime.now(UTC).isoformat()}))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def pull_platform(
    store: Store,
    platform: Platform,
    account: str,
    *,
    token: str | None = None,
    token_env: str | None = None,
    endpoint: str | None = None,
    page_size: int = 100,
    redactor: Redactor | None = None,
    timeout: float = 30.0,
    interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullReport:
    """One pull from the stored cursor (see the module doc); its outcome is kept for
    `agentaudit sources --health`."""
    try:
        report = _pull(
            store, platform, account, token=token, token_env=token_env, endpoint=endpoint,
            page_size=page_size, redactor=redactor, timeout=timeout, sleep=sleep,
        )  # fmt: skip
    except PullError as exc:
        record_pull(platform.name, account, ok=False, error=str(exc), interval=interval)
        raise
    record_pull(platform.name, account, ok=True, interval=interval)
    return report


def _pull(
    store: Store,
    platform: Platform,
    account: str,
    *,
    token: str | None,
    token_env: str | None,
    endpoint: str | None,
    page_size: int,
    redactor: Redactor | None,
    timeout: float,
    sleep: Callable[[float], None],
) -> PullReport:
    variable = token_env or platform.token_env
    token = token or os.environ.get(variable)
    if not token:
        raise PullError(f"no {platform.title} token: set the {variable} environment variable")
    cursor = load_cursor(platform.name, account)
    report = PullReport(platform.name, account)
    url = (endpoint or platform.endpoint).format(account=urllib.parse.quote(account, safe=""))
    request: Request | None = (url, platform.first(cursor, page_size))
    headers = {"User-Agent": "agentaudit-pull/1", "Accept": "application/json"}
    headers.update(platform.auth(token))  # (Heroku's Accept names its API version)
    pulled: list[Any] = []
    newest = cursor
    while request is not None and report.pages < MAX_PAGES:
        page, answer_headers = _get(platform, variable, request, headers, timeout, sleep, report)
        error = platform.page_error(page)
        if error:
            raise PullError(f"{platform.title} API answered an error: {error}")
        records = platform.records(page)
        pulled += records
        report.pages += 1
        report.events += len(records)
        for record in records:
            seen = platform.time_of(record) if isinstance(record, dict) else None
            if seen and (newest is None or seen > newest):
                newest = seen
        more = records or platform.walks_days
        request = platform.next(page, answer_headers, request) if more else None
    if report.events:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        out = state_dir(platform.name, account) / f"records-{stamp}.ndjson"
        with out.open("w") as fh:
            for record in pulled:
                fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        os.chmod(out, 0o600)
        ingested = ingest_paths(store, [out], source=platform.collector, redactor=redactor)
        report.file = str(out)
        report.ingested, report.duplicate = ingested.ingested, ingested.duplicate
        report.quarantined = ingested.quarantined
    report.cursor = newest
    save_cursor(platform.name, account, newest)  # after the pages are stored
    return report


def _get(
    platform: Platform,
    variable: str,
    request: Request,
    headers: dict[str, str],
    timeout: float,
    sleep: Callable[[float], None],
    report: PullReport,
) -> tuple[Any, Mapping[str, str]]:
    """One page through the shared retry layer (`agentaudit.retry.call_with_retries`)."""
    url, params = request
    full = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}" if params else url

    def send() -> Outcome:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(full, headers=headers), timeout=timeout
            ) as response:
                page = json.loads(response.read())
                return Outcome(True, response.status, False, "", (page, dict(response.headers)))
        except urllib.error.HTTPError as exc:
            throttled = exc.code == 403 and platform.throttled_403(exc.headers)
            if exc.code in (401, 403) and not throttled:  # a token problem: retrying cannot help
                return Outcome(
                    False, exc.code, False,
                    f"{platform.title} refused the token (HTTP {exc.code}): "
                    f"check {variable} and its audit-log permission",
                )  # fmt: skip
            answered = outcome_for_status(exc.code)
            retried = throttled or (answered.retryable and exc.code not in (404, 409, 421))
            return Outcome(
                False, exc.code, retried,
                f"{platform.title} API answered {answered.detail}",
                retry_after=_wait(exc.headers, platform),
            )  # fmt: skip
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, reset, cut
            return Outcome(
                False, None, False, f"{platform.title} API unreachable or not JSON: {exc}"
            )

    def counted(seconds: float) -> None:
        report.retries += 1
        sleep(seconds)

    outcome = call_with_retries(
        send, attempts=RETRIES + 1, base_delay=1.0, max_delay=MAX_WAIT_SECONDS, sleep=counted
    )
    if not outcome.ok:
        raise PullError(outcome.detail)
    return outcome.value


def _wait(headers: Mapping[str, str], platform: Platform) -> float | None:
    """Retry-After (seconds or an HTTP date), else the platform's reset time; None: the
    retry layer's exponential backoff."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_WAIT_SECONDS)
        except ValueError:
            try:
                delta = parsedate_to_datetime(retry_after) - datetime.now(UTC)
                return min(max(delta.total_seconds(), 0.0), MAX_WAIT_SECONDS)
            except (TypeError, ValueError):
                pass
    reset = headers.get(platform.rate_reset_header) if platform.rate_reset_header else None
    if reset:
        try:
            return min(max(float(reset) - time.time(), 0.0), MAX_WAIT_SECONDS)
        except ValueError:
            pass
    return None


def link_next(headers: Mapping[str, str]) -> str | None:
    """The `rel="next"` URL of an RFC 8288 Link header (GitLab, GitHub)."""
    for part in (headers.get("Link") or headers.get("link") or "").split(","):
        if 'rel="next"' in part and "<" in part:
            return part[part.index("<") + 1 : part.index(">")]
    return None


def iso(value: Any) -> str | None:
    """A record time as ISO 8601 UTC text (epoch milliseconds or text in)."""
    from agentaudit.collectors.providers._platform import epoch_or_text_time

    when = epoch_or_text_time(value)
    return when.astimezone(UTC).isoformat() if when else None
