"""Every REST puller against the one loopback API (tests/loopback_api.py) serving the
platform's two recorded pages (tests/data/providers; most written from the vendors' docs,
see its SOURCES.md) in the order the platform's paging asks: a 429 honoured and retried, the
pages ingested into a real DuckDB store, a cursor that survives a restart (the next run asks
from it and stores nothing twice), and one clear line for a bad token."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentaudit.health.pulls import pull_health, record_pull
from agentaudit.receivers.pull.platforms import PLATFORMS
from agentaudit.receivers.pull.rest import PullError, load_cursor, pull_platform
from tests.loopback_api import Api, LoopbackApi

DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "providers"
TOKEN = "test-token-not-real"


def pages(folder: str, stem: str) -> list:
    return [json.loads((DATA / folder / f"{stem}-page{n}.json").read_text()) for n in (1, 2)]


def bearer(headers) -> bool:
    return headers.get("Authorization") == f"Bearer {TOKEN}"


def basic(user: str, password: str):
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return lambda headers: headers.get("Authorization") == expected


def _apis() -> dict[str, tuple[Api, str]]:
    """Per platform: its loopback API and the query parameter its cursor is sent in."""
    cloudflare = pages("cloudflare", "audit-logs-v2-api")
    azure = pages("azure-devops", "auditlog-query")
    anthropic = pages("anthropic", "compliance-activities")
    vercel = pages("vercel", "rest-v3-events")
    oldest = min(e["createdAt"] for e in vercel[0]["events"])
    gitlab = pages("gitlab", "audit-events-api-instance")

    def retry():
        return {"Retry-After": "1"}

    github = pages("github", "audit-log-api")

    def github_headers_ok(headers) -> bool:
        return bearer(headers) and headers.get("X-GitHub-Api-Version") == "2022-11-28"

    def github_secondary_limit():  # a 403 that is a rate limit: retried at x-ratelimit-reset
        return {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 2)}

    supabase = pages("supabase", "logs-all-auth-audit")
    stamps = [r["timestamp"] for p in supabase for r in p["result"]]

    def supabase_page(q: dict[str, str]) -> int | None:
        """The page of a documented window: at most 24 h, whole minutes, holding the events."""
        start, end = (datetime.fromisoformat(q[k].replace("Z", "+00:00"))
                      for k in ("iso_timestamp_start", "iso_timestamp_end"))  # fmt: skip
        assert timedelta(0) < end - start <= timedelta(hours=24) and start.second == 0
        assert set(q) == {"sql", "iso_timestamp_start", "iso_timestamp_end"}
        assert "from auth_logs" in q["sql"]
        limit, offset = map(int, re.findall(r"limit (\d+) offset (\d+)$", q["sql"])[0])
        held = start.timestamp() * 1e6 <= max(stamps) and min(stamps) <= end.timestamp() * 1e6
        return offset // limit if held else None

    return {
        "cloudflare": (
            Api(cloudflare, lambda q: 1 if q.get("cursor") == "c2-opaque-page2" else 0,
                {"result": [], "result_info": {}}, bearer, lambda: {"retry-after": "1"}),
            "since",
        ),
        "github": (
            Api(github, lambda q: 1 if q.get("after") == "MS4yMDI2LTA0LTI0" else 0, [],
                github_headers_ok, github_secondary_limit, throttle_status=403,
                headers_for=lambda page, base: {} if page else {
                    "Link": f'<{base}/organizations/2002/audit-log?include=all&per_page=2'
                            f'&after=MS4yMDI2LTA0LTI0&before=>; rel="next"'}),
            "phrase",
        ),
        "gitlab": (
            Api(gitlab, lambda q: 1 if q.get("cursor") == "page2" else 0, [],
                lambda h: h.get("PRIVATE-TOKEN") == TOKEN, retry,
                headers_for=lambda page, base: {} if page else {
                    "Link": f'<{base}/api/v4/groups/acme/audit_events?pagination=keyset'
                            f'&per_page=2&cursor=page2>; rel="next"'}),
            "created_after",
        ),
        "azure-devops": (
            Api(azure, lambda q: 1 if q.get("continuationToken") == azure[0]["continuationToken"] else 0,
                {"decoratedAuditLogEntries": [], "hasMore": False}, basic("", TOKEN), retry),
            "startTime",
        ),
        "cursor": (
            Api(pages("cursor", "admin-api-audit-logs"), lambda q: int(q.get("page", "1")) - 1,
                {"events": [], "pagination": {"hasNextPage": False}}, basic(TOKEN, ""), retry),
            "startDate",
        ),
        "anthropic": (
            Api(anthropic, lambda q: 1 if q.get("after_id") == anthropic[0]["last_id"] else 0,
                {"data": [], "has_more": False}, lambda h: h.get("x-api-key") == TOKEN,
                lambda: {"retry-after": "1"}),
            "created_at[gt]",
        ),
        "terraform-cloud": (
            Api(pages("terraform-cloud", "audit-trail"), lambda q: int(q.get("page[number]", "1")) - 1,
                {"data": [], "pagination": {"next_page": None}}, bearer, retry),
            "since",
        ),
        "supabase": (
            Api(supabase, supabase_page, {"result": [], "error": None}, bearer, retry),
            "iso_timestamp_start",
        ),
        "vercel": (
            Api(vercel, lambda q: 0 if "until" not in q else (1 if q["until"] == str(oldest) else None),
                {"events": []}, bearer, lambda: {"X-RateLimit-Reset": str(int(time.time()) + 2)}),
            "since",
        ),
    }  # fmt: skip


APIS = _apis()
# Supabase walks 24-hour windows up to now: "now" is the day after its recorded events
NOW = {"supabase": datetime(2026, 4, 25, 6, 0, tzinfo=UTC)}


def minute(iso_time: str) -> str:
    """An ISO time rounded down to its minute, as Supabase's window parameters write it."""
    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%dT%H:%M:00Z")


def second(iso_time: str) -> str:
    """An ISO time rounded down to its second, as GitHub's `created` qualifier is sent."""
    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_puller_has_a_loopback_api():
    assert set(APIS) | {"heroku"} == set(PLATFORMS)  # Heroku's days: its own test below


def test_heroku_walks_the_days_from_its_cursor(store, monkeypatch):
    """One request a day from the stored cursor's day to today; the day with events is
    retried after a 429, and the next run starts at the newest event's day."""
    from agentaudit.receivers.pull.rest import save_cursor

    day = json.loads((DATA / "heroku/enterprise-events-day.json").read_text())
    api = Api([day], lambda q: 0 if q.get("day") == "2026-04-24" else None, [],
              bearer, lambda: {"RateLimit-Remaining": "0"})  # fmt: skip
    platform = PLATFORMS["heroku"]
    save_cursor("heroku", "acme", "2026-04-22T10:00:00+00:00")
    monkeypatch.setenv(platform.token_env, TOKEN)
    waits: list[float] = []
    with LoopbackApi(api, throttle_page=0) as server:
        report = pull_platform(store, platform, "acme", endpoint=server.base + "/events",
                               sleep=waits.append)  # fmt: skip
        days = [r.query["day"] for r in server.requests]
        assert days[:4] == ["2026-04-22", "2026-04-23", "2026-04-24", "2026-04-24"]
        assert report.ingested == 3 and report.retries == 1
        assert len(waits) == 1 and 0.5 <= waits[0] <= 1.0  # no Retry-After: 1 s backoff, jittered
        assert load_cursor("heroku", "acme") == "2026-04-24T14:02:00+00:00"
        server.requests.clear()
        pull_platform(store, platform, "acme", endpoint=server.base + "/events", sleep=waits.append)
        assert server.requests[0].query["day"] == "2026-04-24"


@pytest.mark.parametrize("name", sorted(APIS))
def test_pull_pages_retries_keeps_its_cursor_and_refuses_a_bad_token(name, store, monkeypatch):
    platform = PLATFORMS[name]
    api, cursor_param = APIS[name]
    expected = sum(len(platform.records(page)) for page in api.pages)
    waits: list[float] = []
    if name in NOW:
        module = __import__(f"agentaudit.receivers.pull.{name}", fromlist=["_now"])
        monkeypatch.setattr(module, "_now", lambda: NOW[name])
    with LoopbackApi(api) as server:
        endpoint = server.base + "/api?x=1" if "?" in platform.endpoint else server.base + "/api"
        monkeypatch.setenv(platform.token_env, TOKEN)
        first = pull_platform(
            store, platform, "acme", endpoint=endpoint, page_size=2, sleep=waits.append
        )
        assert (first.events, first.ingested, first.quarantined) == (expected, expected, 0)
        assert first.retries == 1 and len(waits) == 1 and 0 < waits[0] <= 2.5  # its Retry-After
        assert [r.status for r in server.requests].count(api.throttle_status) == 1
        newest = max(platform.time_of(r) for p in api.pages for r in platform.records(p))
        assert load_cursor(name, "acme") == newest == first.cursor
        asked_first = server.requests[0].query.get(cursor_param)  # everything (or 90 days)

        # a restart: the cursor is read back from its file and sent; nothing is stored twice
        server.requests.clear()
        again = pull_platform(
            store, platform, "acme", endpoint=endpoint, page_size=2, sleep=waits.append
        )
        asked_again = server.requests[0].query[cursor_param]
        assert asked_again != asked_first
        assert asked_again in (
            newest, str(int(datetime.fromisoformat(newest).timestamp() * 1000)), minute(newest),
            f"created:>={second(newest)}",  # GitHub's search phrase
        )  # fmt: skip
        assert again.ingested == 0 and again.duplicate == again.events

        monkeypatch.setenv(platform.token_env, "wrong-token")
        with pytest.raises(PullError) as refused:
            pull_platform(store, platform, "acme", endpoint=endpoint, sleep=waits.append)
    message = str(refused.value)
    assert "refused the token (HTTP 401)" in message and platform.token_env in message
    assert "\n" not in message and "wrong-token" not in message
    assert load_cursor(name, "acme") == newest  # a failed run leaves the cursor
    (health,) = [h for h in pull_health() if h.puller == name]
    assert health.consecutive_failures == 1 and health.last_success is not None
    rows = store.con.execute("SELECT count(DISTINCT event_id) FROM events").fetchone()
    assert rows[0] == expected


def test_a_missing_token_is_one_line(store, monkeypatch):
    platform = PLATFORMS["cloudflare"]
    monkeypatch.delenv(platform.token_env, raising=False)
    with pytest.raises(PullError, match=r"no Cloudflare token: set the CLOUDFLARE_API_TOKEN"):
        pull_platform(store, platform, "acme", endpoint="http://127.0.0.1:9/never")


def test_the_cli_names_every_puller_with_its_token_variable():
    from agentaudit.cli.pull import REST_PULLERS

    assert {n: v for n, (v, _) in REST_PULLERS.items()} == {
        n: p.token_env for n, p in PLATFORMS.items()
    }
    assert {n: a for n, (_, a) in REST_PULLERS.items()} == {
        n: p.account_help for n, p in PLATFORMS.items()
    }


def test_pull_command_end_to_end_and_a_bad_token_is_one_line(tmp_path, monkeypatch):
    from tests.cli_helpers import invoke_cli, run_cli

    api, _ = APIS["terraform-cloud"]
    db = tmp_path / "store.duckdb"
    with LoopbackApi(api, throttle_page=None) as server:
        monkeypatch.setenv("TFC_AUDIT_TOKEN", TOKEN)
        out = run_cli("pull", "terraform-cloud", "--account", "acme", "--endpoint",
                      server.base + "/api", "--db", db, "--json")  # fmt: skip
        assert json.loads(out)["ingested"] == 5
        monkeypatch.setenv("TFC_AUDIT_TOKEN", "wrong")
        bad = invoke_cli("pull", "terraform-cloud", "--account", "acme", "--endpoint",
                         server.base + "/api", "--db", db)  # fmt: skip
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "HCP Terraform refused the token (HTTP 401): check TFC_AUDIT_TOKEN" in " ".join(
        bad.output.split()
    )


def _frozen_supabase(monkeypatch):
    from agentaudit.receivers.pull import supabase

    monkeypatch.setattr(supabase, "_now", lambda: NOW["supabase"])
    monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", TOKEN)
    return PLATFORMS["supabase"]


def test_supabase_walks_24_hour_windows_and_pages_inside_the_one_with_events(store, monkeypatch):
    """The first pull reads the last 7 days in windows of at most 24 hours, oldest first;
    the window holding the events is paged with OFFSET; the next run starts at the cursor's
    minute and ends at now."""
    platform = _frozen_supabase(monkeypatch)
    api, _ = APIS["supabase"]
    with LoopbackApi(api, throttle_page=None) as server:
        report = pull_platform(store, platform, "ref", endpoint=server.base + "/api", page_size=2)
        windows = [(r.query["iso_timestamp_start"], r.query["iso_timestamp_end"],
                    r.query["sql"].rsplit(" ", 1)[1]) for r in server.requests]  # fmt: skip
        assert windows[0][0] == "2026-04-18T06:00:00Z" and windows[-1][1] == "2026-04-25T06:00:00Z"
        starts = [w[0] for w in windows if w[2] == "0"]
        assert [b for _, b, o in windows if o == "0"][:-1] == starts[1:]  # no gap between windows
        assert ("2026-04-24T06:00:00Z", "2026-04-25T06:00:00Z", "2") in windows  # page 2
        assert report.ingested == 3 and report.pages == len(windows) == 8  # 7 days, 1 more page
        server.requests.clear()
        pull_platform(store, platform, "ref", endpoint=server.base + "/api", page_size=2)
        (first, *_) = server.requests
        assert (first.query["iso_timestamp_start"], first.query["iso_timestamp_end"]) == (
            "2026-04-24T14:03:00Z", "2026-04-25T06:01:00Z"
        )  # fmt: skip


def test_supabase_error_in_a_200_answer_fails_the_run_in_one_line(store, monkeypatch):
    """Supabase answers a failed logs query with 200 and `error`: no rows is not "no events"."""
    platform = _frozen_supabase(monkeypatch)
    failed = {"result": [], "error": {"code": 400, "message": "Syntax error:\n at [1:8]",
                                      "errors": [], "status": "INVALID_ARGUMENT"}}  # fmt: skip
    api = Api([failed], lambda q: 0, failed, bearer, dict)
    with LoopbackApi(api, throttle_page=None) as server, pytest.raises(PullError) as failure:
        pull_platform(store, platform, "ref", endpoint=server.base + "/api")
    assert str(failure.value) == "Supabase API answered an error: Syntax error: at [1:8]"
    assert load_cursor("supabase", "ref") is None


def test_pull_supabase_end_to_end(tmp_path, monkeypatch):
    from tests.cli_helpers import invoke_cli, run_cli

    _frozen_supabase(monkeypatch)
    api, _ = APIS["supabase"]
    db = tmp_path / "store.duckdb"
    with LoopbackApi(api, throttle_page=None) as server:
        args = (
            "pull",
            "supabase",
            "--account",
            "abcdefghijklmnopqrst",
            "--endpoint",
            server.base + "/v1/projects/{account}/analytics/endpoints/logs.all",
            "--db",
            db,
            "--page-size",
            "2",
        )  # fmt: skip (the loopback holds pages of 2 rows)
        out = json.loads(run_cli(*args, "--json"))
        assert (out["ingested"], out["quarantined"], out["cursor"]) == (
            3, 0, "2026-04-24T14:03:00.500000+00:00"
        )  # fmt: skip
        assert (
            server.requests[0].path
            == "/v1/projects/abcdefghijklmnopqrst/analytics/endpoints/logs.all"
        )
        monkeypatch.setenv("SUPABASE_ACCESS_TOKEN", "wrong")
        bad = invoke_cli(*args)
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "Supabase refused the token (HTTP 401): check SUPABASE_ACCESS_TOKEN" in " ".join(
        bad.output.split()
    )
    from agentaudit.store import Store

    with Store.open(db) as store:  # the user_deleted line arrived whole, its actor and agent kept
        row = store.con.execute(
            "SELECT actor, source_ip, user_agent FROM events WHERE operation = 'user_deleted'"
        ).fetchone()
    assert row == ("service_role", "198.51.100.40", "supabase-py/2.15.0")


def test_a_daily_supabase_pull_is_named_by_source_health(store, monkeypatch):
    """Free projects keep their logs one day: pulling once a day loses events between runs."""
    platform = _frozen_supabase(monkeypatch)
    api, _ = APIS["supabase"]
    with LoopbackApi(api, throttle_page=None) as server:
        pull_platform(store, platform, "ref", endpoint=server.base + "/api", interval=86400)
    (health,) = [h for h in pull_health() if h.puller == "supabase"]
    assert health.consecutive_failures == 0 and len(health.problems) == 1
    assert (
        "not shorter than the retention: Supabase Free keeps project logs 1 day"
        in (health.problems[0])
    )
    record_pull("supabase", "ref", ok=True, interval=3600)
    (hourly,) = [h for h in pull_health() if h.puller == "supabase"]
    assert hourly.problems == []


def test_a_connection_dropped_without_an_answer_is_one_line(store, monkeypatch):
    """The server closes the connection before answering: one line, no traceback."""
    platform = _frozen_supabase(monkeypatch)

    def hang_up(query):
        raise ConnectionAbortedError("the loopback drops this request")

    api = Api([], hang_up, {}, bearer, dict)
    with LoopbackApi(api) as server, pytest.raises(PullError) as failure:
        pull_platform(store, platform, "ref", endpoint=server.base + "/api")
    assert str(failure.value).startswith("Supabase API unreachable or not JSON: ")
    assert "\n" not in str(failure.value)
