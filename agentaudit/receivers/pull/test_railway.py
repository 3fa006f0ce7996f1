"""`agentaudit pull railway` against a local GraphQL server.

Railway's API cannot be reached here, so a real HTTP server on 127.0.0.1 serves the documented
`auditLogs` response shape (railwayapp/cli `src/gql/schema.json`: edges { cursor node { id
eventType createdAt ... } } pageInfo { endCursor hasNextPage }), honouring `first`, `after`
and `filter.startDate`, and checking the bearer token. Everything on our side is real: urllib,
the stored cursor file, the raw page files, the collector and the DuckDB store.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from agentaudit.cli import app
from agentaudit.receivers.pull.railway import PullError, load_state, poll_railway, pull_railway

TOKEN = "railway-test-token-not-real"
START = datetime(2026, 4, 24, 19, 0, tzinfo=UTC)


class FakeRailway:
    """The audit log of one workspace, oldest first, served as GraphQL pages."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.requests: list[dict] = []
        self.add(250)

    def add(self, n: int) -> None:
        for _ in range(n):
            i = len(self.events)
            self.events.append(
                {
                    "id": f"log-{i:05d}",
                    "eventType": "volume.deleted" if i == 3 else "deployment.created",
                    "createdAt": (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                    "workspaceId": "ws-1",
                    "projectId": "prj-1",
                    "environmentId": "env-prod-1",
                    "environment": {"id": "env-prod-1", "name": "production"},
                    "payload": {"volumeId": f"vol-{i}"},
                    "context": {"actor": {"type": "User", "email": "dev@example.com"}},
                }
            )

    def page(self, variables: dict) -> dict:
        start = 0
        if variables.get("after"):
            start = int(base64.b64decode(variables["after"])) + 1
        since = (variables.get("filter") or {}).get("startDate")
        chosen = [
            (i, e)
            for i, e in enumerate(self.events)
            if i >= start and (since is None or e["createdAt"] >= since)
        ][: variables["first"]]
        cursor = lambda i: base64.b64encode(str(i).encode()).decode()  # noqa: E731
        last = chosen[-1][0] if chosen else None
        return {
            "data": {
                "auditLogs": {
                    "edges": [{"cursor": cursor(i), "node": e} for i, e in chosen],
                    "pageInfo": {
                        "endCursor": cursor(last) if last is not None else None,
                        "hasNextPage": last is not None and last < len(self.events) - 1,
                    },
                }
            }
        }


@pytest.fixture
def railway_server():
    fake = FakeRailway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append({"headers": dict(self.headers), "body": body})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                reply, status = {"errors": [{"message": "Not Authorized"}], "data": None}, 200
            elif "auditLogs" not in body["query"]:
                reply, status = {"errors": [{"message": "unknown query"}]}, 400
            else:
                reply, status = fake.page(body["variables"]), 200
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/graphql/v2"
    yield fake
    server.shutdown()
    server.server_close()


def test_pull_pages_stores_cursor_and_resumes(store, redactor, railway_server, monkeypatch):
    monkeypatch.setenv("RAILWAY_API_TOKEN", TOKEN)
    first = pull_railway(store, "ws-1", endpoint=railway_server.url, redactor=redactor)
    assert (first.pages, first.events, first.ingested, first.quarantined) == (3, 250, 250, 0)
    assert len(railway_server.requests) == 3
    assert railway_server.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert railway_server.requests[1]["body"]["variables"]["after"] is not None
    state = load_state("ws-1")
    assert base64.b64decode(state["cursor"]) == b"249"
    assert state["last_created_at"] == "2026-04-24T19:04:09Z"
    assert TOKEN not in json.dumps(state)

    nothing = pull_railway(store, "ws-1", endpoint=railway_server.url, redactor=redactor)
    assert (nothing.pages, nothing.events, nothing.ingested) == (1, 0, 0)

    railway_server.add(5)
    more = pull_railway(store, "ws-1", endpoint=railway_server.url, redactor=redactor)
    assert (more.events, more.ingested, more.duplicate) == (5, 5, 0)
    assert railway_server.requests[-1]["body"]["variables"]["filter"] == {
        "startDate": "2026-04-24T19:04:09Z"
    }
    assert store.count("events") == 255
    row = store.query(
        "SELECT operation, target, target_env, destructive, actor FROM events "
        "WHERE operation = 'volume.deleted'"
    ).to_pylist()
    assert row == [
        {
            "operation": "volume.deleted",
            "target": "vol-3",
            "target_env": "production",
            "destructive": True,
            "actor": "dev@example.com",
        }
    ]


def test_bad_token_leaves_the_cursor_alone(store, redactor, railway_server, monkeypatch):
    monkeypatch.setenv("RAILWAY_API_TOKEN", "wrong")
    with pytest.raises(PullError, match="Not Authorized"):
        pull_railway(store, "ws-1", endpoint=railway_server.url, redactor=redactor)
    assert load_state("ws-1") == {}
    monkeypatch.delenv("RAILWAY_API_TOKEN")
    with pytest.raises(PullError, match="RAILWAY_API_TOKEN"):
        pull_railway(store, "ws-1", endpoint=railway_server.url, redactor=redactor)


def test_poll_on_an_interval(store, redactor, railway_server, monkeypatch):
    monkeypatch.setenv("RAILWAY_API_TOKEN", TOKEN)
    slept: list[float] = []
    reports = poll_railway(
        store,
        "ws-1",
        interval=3600,
        runs=3,
        sleep=slept.append,
        endpoint=railway_server.url,
        redactor=redactor,
        page_size=200,
    )
    assert [r.ingested for r in reports] == [250, 0, 0]
    assert slept == [3600, 3600]


def test_cli_pull_railway(railway_server, monkeypatch, tmp_path):
    monkeypatch.setenv("MY_RAILWAY_TOKEN", TOKEN)
    db = tmp_path / "cli.duckdb"
    args = ["pull", "railway", "--workspace", "ws-1", "--endpoint", railway_server.url]
    args += ["--token-env", "MY_RAILWAY_TOKEN", "--db", str(db), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["events"], report["ingested"]) == (250, 250)
    assert TOKEN not in result.output
