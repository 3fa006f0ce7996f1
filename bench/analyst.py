"""The analyst surfaces on a large store: timelines, incidents and the views, vs bare DuckDB queries.

    python -m bench.analyst [--events 1000000]

A store of N generated events (agent sessions of 500 rows: 400 Cursor hook rows, 80 zsh lines
that link to them, 20 Railway audit records; every 50th session ends in the PocketOS pattern: a
refused CLI delete, a token read, a volumeDelete curl and the provider's record) is built once
through the real store, linker and detectors. Then, each in its own process on the same file:

- ours: the library calls behind `timeline --incident/--session/--from --to`, `incidents
  list/show` and a full count over each analyst view;
- baseline: the nearest bare DuckDB query on the raw tables (no linking, no merging, no views).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import peak_rss_mb, run_side
from bench.results import write_section

SESSION_ROWS = 500
INCIDENT_EVERY = 50  # every 50th session is an incident
START = datetime(2026, 4, 1, tzinfo=UTC)

# one INSERT ... BY NAME over range(N); columns not named are NULL
_GENERATE = """
INSERT INTO events BY NAME
WITH base AS (
    SELECT i, i // 500 AS s, i % 500 AS p, (i // 500) % 50 = 7 AS incident,
           TIMESTAMPTZ '2026-04-01 00:00:00+00' + to_seconds((i // 500) * 600) AS t0
    FROM range(?) t(i)
), shaped AS (
    SELECT *,
        CASE WHEN p < 400 THEN 'agent' WHEN p < 480 THEN 'shell' ELSE 'provider' END AS role,
        -- the agent call a shell line mirrors, and that call's time
        CASE WHEN p BETWEEN 400 AND 479 THEN (p - 400) * 5 ELSE p END AS ap
    FROM base
), rowed AS (
    SELECT *, t0 + to_milliseconds(ap * 1500 + (s % 7) * 13) AS t_agent,
           ['git status', 'npm test', 'ls -la src', 'pytest -q', 'cat README.md',
            'docker compose up -d', 'make lint'][1 + ap % 7] AS benign
    FROM shaped
)
SELECT
    md5('bench-' || i) AS event_id,
    CASE role WHEN 'agent' THEN 'cursor.hooks' WHEN 'shell' THEN 'shell.zsh'
              ELSE 'railway.audit' END AS source,
    'bench/' || role AS source_path, i * 100 AS source_offset, 'bench/1' AS parser_version,
    TIMESTAMPTZ '2026-04-01 00:00:00+00' AS ingested_at,
    CASE role WHEN 'shell' THEN date_trunc('second', t_agent)
              WHEN 'provider' THEN CASE WHEN p = 480 AND incident
                                        THEN t_agent + to_milliseconds(350 * 1500 - 480 * 1500 + 1117)
                                        ELSE t0 + to_seconds(p) END
              ELSE t_agent END AS time,
    CASE role WHEN 'shell' THEN 's' ELSE 'ms' END AS time_precision,
    i AS seq, 'host-' || (s % 40) AS host,
    CASE role WHEN 'agent' THEN 'cursor' ELSE 'unknown' END AS agent,
    CASE role WHEN 'agent' THEN 'sess-' || s END AS session_id,
    CASE WHEN role = 'agent' THEN 'call-' || s || '-' || p END AS tool_call_id,
    CASE WHEN role = 'agent' AND incident AND p = 350 THEN 'fp' || s
         WHEN role = 'shell' AND incident AND ap = 350 THEN 'fp' || s END AS credential_fp,
    CASE WHEN role = 'agent' AND incident AND p = 13 THEN ['fp' || s]
         WHEN role = 'agent' AND incident AND p = 350 THEN ['fp' || s] END AS secret_fps,
    CASE WHEN role = 'provider' THEN 'api' WHEN role = 'agent' AND p % 10 = 3 THEN 'file'
         ELSE 'process' END AS kind,
    CASE WHEN role = 'provider' THEN
              CASE WHEN p = 480 AND incident THEN 'volume.deleted' ELSE 'deployment.created' END
         WHEN role = 'agent' AND p % 10 = 3 THEN 'read'
         WHEN incident AND ap = 350 THEN 'railway.graphql:volumeDelete'
         WHEN incident AND ap = 340 THEN 'railway volume delete'
         ELSE split_part(benign, ' ', 1) END AS operation,
    CASE WHEN role = 'provider' OR (role = 'agent' AND p % 10 = 3) THEN NULL
         WHEN incident AND ap = 350 THEN 'curl -X POST https://backboard.railway.app/graphql/v2 -d volumeDelete'
         WHEN incident AND ap = 340 THEN 'railway volume delete --volume vol-' || s || ' --yes'
         ELSE benign END AS command,
    CASE WHEN role = 'agent' THEN '/home/dev/project-' || (s % 40) END AS cwd,
    CASE WHEN role = 'agent' AND p % 10 = 3 THEN
              ['/home/dev/project-' || (s % 40) || CASE WHEN p = 13 THEN '/scripts/token.env'
                                                        ELSE '/src/file' || p || '.py' END] END AS paths,
    CASE WHEN incident AND ap = 350 AND role <> 'provider'
         THEN 'https://backboard.railway.app/graphql/v2' END AS url,
    CASE WHEN role = 'agent' AND p % 10 = 3 THEN
              '/home/dev/project-' || (s % 40) || CASE WHEN p = 13 THEN '/scripts/token.env'
                                                       ELSE '/src/file' || p || '.py' END
         WHEN incident AND (ap IN (340, 350) OR (role = 'provider' AND p = 480)) THEN 'vol-' || s
         WHEN role = 'provider' THEN 'svc-' || s END AS target,
    CASE WHEN role = 'provider' AND p = 480 AND incident THEN 'production'
         WHEN role = 'provider' THEN 'staging' ELSE 'unknown' END AS target_env,
    CASE WHEN role = 'provider' THEN 'success'
         WHEN role = 'agent' AND incident AND p = 340 THEN 'failure' ELSE 'unknown' END AS status,
    (incident AND (ap IN (340, 350) OR (role = 'provider' AND p = 480))) AS destructive,
    CASE WHEN incident AND (ap IN (340, 350) OR (role = 'provider' AND p = 480))
         THEN ['cloud_delete'] END AS categories,
    CASE WHEN incident AND (ap IN (340, 350) OR (role = 'provider' AND p = 480))
         THEN 'critical' ELSE 'info' END AS severity,
    '{}' AS raw
FROM rowed
"""


def build(db: Path, events: int) -> dict:
    from agentaudit.detect.link import link_events
    from agentaudit.pipeline import detect_and_alert
    from agentaudit.store import Store

    started = time.perf_counter()
    with Store.open(db) as store:
        store.con.execute(_GENERATE, [events])
        generated = time.perf_counter()
        links = link_events(store)
        linked = time.perf_counter()
        detect_and_alert(store, [])
        return {
            "events": store.count("events"),
            "links": links,
            "findings": store.count("findings"),
            "alerts": store.count("alerts"),
            "generate_s": generated - started,
            "link_s": linked - generated,
            "detect_s": time.perf_counter() - linked,
        }


def _timed(results: dict, name: str, fn) -> object:
    started = time.perf_counter()
    value = fn()
    results[name] = {"seconds": time.perf_counter() - started, "rows": _size(value)}
    return value


def _size(value: object) -> int:
    if hasattr(value, "rows"):
        return len(value.rows)
    if hasattr(value, "destructive_steps"):
        return len(value.destructive_steps)
    if isinstance(value, list) and len(value) == 1 and value[0] and len(value[0]) == 1:
        return int(value[0][0])  # a bare count(*)
    return len(value) if isinstance(value, list) else int(value)


def side_ours(db: Path, session: str, start: datetime, end: datetime) -> dict:
    from agentaudit.analyst.incidents import get_incident, list_incidents
    from agentaudit.analyst.timeline_steps import report_for
    from agentaudit.store import Store
    from agentaudit.store.views import VIEW_NAMES

    results: dict = {}
    with Store.open(db, read_only=True) as store:
        incidents = _timed(results, "incidents list", lambda: list_incidents(store))
        first = incidents[0]["incident_id"]
        _timed(results, "incidents show", lambda: get_incident(store, first))
        _timed(results, "timeline --incident", lambda: report_for(store, incident=first))
        _timed(results, "timeline --session", lambda: report_for(store, session=session))
        _timed(
            results,
            "timeline --from --to (10 min)",
            lambda: report_for(store, start=start, end=end),
        )
        for view in VIEW_NAMES:
            _timed(
                results,
                f"SELECT count(*) FROM {view}",
                lambda v=view: store.con.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0],
            )
    return {"results": results, "peak_rss_mb": peak_rss_mb()}


# the nearest bare query for each of ours: raw tables, no linking, merging or views
BASELINE = {
    "incidents list": "SELECT * FROM alerts ORDER BY first_seen DESC",
    "incidents show": "SELECT * FROM events WHERE session_id = (SELECT session_id FROM alerts ORDER BY first_seen DESC LIMIT 1) AND destructive",
    "timeline --incident": "SELECT * FROM events WHERE session_id = (SELECT session_id FROM alerts ORDER BY first_seen DESC LIMIT 1) ORDER BY time",
    "timeline --session": "SELECT * FROM events WHERE session_id = $session ORDER BY time, seq",
    "timeline --from --to (10 min)": "SELECT * FROM events WHERE time BETWEEN $start AND $end ORDER BY time, seq",
    "SELECT count(*) FROM destructive_events": "SELECT count(*) FROM events WHERE destructive",
    "SELECT count(*) FROM sessions": "SELECT count(DISTINCT session_id) FROM events",
    "SELECT count(*) FROM credential_uses": "SELECT count(*) FROM events WHERE credential_fp IS NOT NULL OR secret_fps IS NOT NULL",
    "SELECT count(*) FROM provider_confirmations": "SELECT count(*) FROM events WHERE kind = 'api'",
    "SELECT count(*) FROM incidents": "SELECT count(*) FROM alerts",
}


def side_baseline(db: Path, session: str, start: datetime, end: datetime) -> dict:
    import duckdb

    results: dict = {}
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    params = {"session": session, "start": start, "end": end}
    for name, sql in BASELINE.items():
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        _timed(results, name, lambda q=sql, p=used: con.execute(q, p).fetchall())
    con.close()
    return {"results": results, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--side", choices=["build", "ours", "baseline"])
    parser.add_argument("--db")
    args = parser.parse_args()
    sessions = args.events // SESSION_ROWS
    session = (
        f"sess-{sessions // 2 + 7 - (sessions // 2) % INCIDENT_EVERY}"  # an incident's session
    )
    start = START + timedelta(days=3)
    end = start + timedelta(minutes=10)
    if args.side == "build":
        print(json.dumps(build(Path(args.db), args.events)))
        return
    if args.side in ("ours", "baseline"):
        side = side_ours if args.side == "ours" else side_baseline
        print(json.dumps(side(Path(args.db), session, start, end)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/store.duckdb"
        built = run_side(
            "bench.analyst", "--side", "build", "--events", str(args.events), "--db", db
        )
        ours = run_side("bench.analyst", "--side", "ours", "--events", str(args.events), "--db", db)
        base = run_side(
            "bench.analyst", "--side", "baseline", "--events", str(args.events), "--db", db
        )
    assert built["events"] == args.events, built
    rows = []
    for name, mine in ours["results"].items():
        theirs = base["results"][name]
        rows.append(
            f"| `{name}` | {mine['seconds']:.3f} | {mine['rows']:,} | {theirs['seconds']:.3f} "
            f"| {theirs['rows']:,} | {mine['seconds'] / max(theirs['seconds'], 1e-6):.1f} |"
        )
    slowest = max(r["seconds"] for r in ours["results"].values())
    body = f"""## Analyst surfaces on {args.events:,} events (issue 8)

`python -m bench.analyst --events {args.events}`: a store of {built["events"]:,} generated
events ({args.events // SESSION_ROWS:,} agent sessions; every {INCIDENT_EVERY}th ends in the
PocketOS pattern) built through the real store, linker and detectors: {built["links"]:,} links,
{built["findings"]:,} findings, {built["alerts"]:,} incidents (build, not compared: generate
{built["generate_s"]:.1f} s, link {built["link_s"]:.1f} s, detect {built["detect_s"]:.1f} s).
Then each side in its own process on the same file, store opened read-only. Ours: the
library calls behind the commands (steps merged across sources, findings marked, provider gap;
the views). Baseline: the nearest bare DuckDB query on the raw tables (no linking, merging or
views), so the ratio is the price of the analyst's answer over a plain scan.

| question | ours s | ours rows | bare query s | bare rows | ratio |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

**Slowest answer: {slowest:.2f} s.** Peak RSS: ours {ours["peak_rss_mb"]:.0f} MB, baseline
{base["peak_rss_mb"]:.0f} MB. Rows differ where ours adds the linked shell and provider rows a
bare session filter cannot see.
"""
    write_section("analyst", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
