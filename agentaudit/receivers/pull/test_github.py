"""`agentaudit pull github` against a loopback server that speaks GitHub's audit-log API as
documented (docs.github.com/rest/orgs/orgs#get-the-audit-log-for-an-organization and
/rest/enterprise-admin/audit-log: `order`, `per_page`, `include`, `phrase`, Link `after`
cursors, 403/429 rate limits): GitHub's servers cannot be reached from here. The paging,
429 retry, restart cursor and bad token are in test_rest_pullers.py with the other platforms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentaudit.receivers.pull.github import endpoint
from agentaudit.receivers.pull.platforms import PLATFORMS
from agentaudit.receivers.pull.rest import PullError, load_cursor, pull_platform
from agentaudit.store import Store
from tests.cli_helpers import invoke_cli, run_cli
from tests.loopback_api import Api, LoopbackApi

DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "providers" / "github"
TOKEN = "test-token-not-real"
AFTER = "MS4yMDI2LTA0LTI0"


def _api(**changes) -> Api:
    pages = [json.loads((DATA / f"audit-log-api-page{n}.json").read_text()) for n in (1, 2)]
    settings = dict(
        pages=pages,
        page_of=lambda q: 1 if q.get("after") == AFTER else 0,
        empty=[],
        token_ok=lambda h: h.get("Authorization") == f"Bearer {TOKEN}"
        and h.get("X-GitHub-Api-Version") == "2022-11-28",
        throttle=lambda: {"Retry-After": "1"},
        headers_for=lambda page, base: {} if page else {
            "Link": f'<{base}/organizations/2002/audit-log?include=all&per_page=100'
                    f'&after={AFTER}&before=>; rel="next"'},
    )  # fmt: skip
    return Api(**{**settings, **changes})


def test_a_secondary_rate_limit_403_is_waited_out_with_retry_after(store, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    waits: list[float] = []
    with LoopbackApi(_api(throttle_status=403), throttle_page=0) as server:
        report = pull_platform(store, PLATFORMS["github"], "acme",
                               endpoint=endpoint(server.base), sleep=waits.append)  # fmt: skip
        statuses = [r.status for r in server.requests]
        first = server.requests[0]
    # the last page has no rel="next": the pull ends there
    assert statuses == [403, 200, 200] and waits == [1.0] and report.ingested == 5
    assert first.path == "/orgs/acme/audit-log"
    assert first.query == {"include": "all", "order": "asc", "per_page": "100"}  # no phrase yet


def test_a_403_without_rate_limit_headers_is_a_refusal_not_retried(store, monkeypatch):
    """An owner-only endpoint answers a member's token with a plain 403: retrying cannot help."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    forbidden = _api(throttle_status=403, throttle=dict)
    with LoopbackApi(forbidden, throttle_page=0) as server, pytest.raises(PullError) as refused:
        pull_platform(store, PLATFORMS["github"], "acme", endpoint=endpoint(server.base))
    assert len(server.requests) == 1
    assert str(refused.value) == (
        "GitHub refused the token (HTTP 403): check GITHUB_TOKEN and its audit-log permission"
    )
    assert load_cursor("github", "acme") is None


def test_pull_github_end_to_end_into_a_duckdb_file(tmp_path, monkeypatch):
    """Org pull through the CLI: Copilot's agent events land attributed to the agent and its
    session; a second run asks from the cursor and stores nothing twice; an enterprise keeps
    its own cursor; a bad token and a bad --include are one line each."""
    db = tmp_path / "store.duckdb"
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with LoopbackApi(_api()) as server:  # page 2 answers 429 once
        args = ("pull", "github", "--account", "acme", "--api-url", server.base, "--db", db)
        first = json.loads(run_cli(*args, "--json"))
        again = json.loads(run_cli(*args, "--json"))
        phrase = server.requests[-2].query.get("phrase")  # the second run's first request
        run_cli("pull", "github", "--account", "acme-ent", "--enterprise", "--include", "web",
                "--api-url", server.base, "--db", db)  # fmt: skip
        enterprise = next(r for r in server.requests if r.path.startswith("/enterprises/"))
        monkeypatch.setenv("GITHUB_TOKEN", "wrong")
        bad = invoke_cli(*args)
    assert (first["ingested"], first["retries"], first["cursor"]) == (
        5, 1, "2026-04-24T14:04:02.517000+00:00"
    )  # fmt: skip
    assert (again["ingested"], again["duplicate"]) == (0, 5)
    assert phrase == "created:>=2026-04-24T14:04:02Z"
    assert enterprise.path == "/enterprises/acme-ent/audit-log"
    assert enterprise.query["include"] == "web" and "phrase" not in enterprise.query
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "GitHub refused the token (HTTP 401): check GITHUB_TOKEN" in " ".join(bad.output.split())
    bad_include = invoke_cli("pull", "github", "--account", "acme", "--include", "everything")
    assert bad_include.exit_code == 2 and "Traceback" not in bad_include.output
    assert "--include must be one of web, git, all" in " ".join(bad_include.output.split())
    with Store.open(db) as store:
        rows = store.con.execute(
            "SELECT operation, agent, session_id FROM events WHERE source = 'github.audit'"
            " AND actor = 'Copilot' ORDER BY time"
        ).fetchall()
        total = store.con.execute("SELECT count(*) FROM events").fetchone()
    session = "5d0c9e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f"
    assert rows == [("pull_request.create", "copilot", session), ("git.push", "copilot", session)]
    assert total == (5,)
