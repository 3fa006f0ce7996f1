"""The store's views, created with it (and as temporary views on an older read-only one):
`event_sessions`, which detectors and the analyst views read, and the analyst views.

Each view is documented here (name, one line, SQL); `agentaudit views` and docs/ARCHITECTURE.md
show the same descriptions. They are plain SQL over `event_sessions`, `findings` and `alerts`, so
`agentaudit query`, `agentaudit sql`, the notebooks and the dashboard all read the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from agentaudit.taxonomy import severity_rank_sql

# link.py names the sessions it infers from shell history 'shell:<hash>', and the bursts of one
# provider principal 'principal:<hash>'; every other session id is an agent's own
SESSION_KIND = (
    "CASE WHEN session_key IS NULL THEN NULL "
    "WHEN starts_with(session_key, 'shell:') THEN 'shell' "
    "WHEN starts_with(session_key, 'principal:') THEN 'principal' ELSE 'agent' END"
)


@dataclass(frozen=True)
class View:
    name: str
    description: str
    sql: str


# events with the session and call each belongs to, across sources: what detectors and the
# analyst views read
EVENT_SESSIONS = View(
    "event_sessions",
    "every event with session_key (its own session or the one a link gives it), call_key (the "
    "agent call it is part of) and step_time (a whole-second shell line at its call's time)",
    """
        SELECT e.*, coalesce(e.session_id, l.session_id) AS session_key, l.linked_event_id,
               coalesce(e.tool_call_id, l.linked_call_id, e.event_id) AS call_key,
               -- a whole-second shell line sits at the time of the agent call it is
               CASE WHEN e.time_precision IN ('s', 'none') AND l.linked_time IS NOT NULL
                    THEN l.linked_time ELSE e.time END AS step_time
        FROM events e
        -- the linked event's call id and time are looked up for the links only: joining every
        -- event to the events table again cost detectors 3-4x the scan
        LEFT JOIN (SELECT l.event_id, l.session_id, l.linked_event_id,
                          a.tool_call_id AS linked_call_id, a.time AS linked_time
                   FROM links l
                   LEFT JOIN events a ON a.event_id = l.linked_event_id
                   LEFT JOIN (SELECT event_id, time FROM events) s ON s.event_id = l.event_id
                   -- One link per line, the same whatever order its links were found in (a
                   -- later pass may find a better candidate): a link to a call wins over a
                   -- session-only link, any link over an inferred shell session; then the
                   -- same target over the same command over the same credential; then each
                   -- link query's own preference (detect/link.py): the provider's record to
                   -- the latest call that was not refused, the shell line to the closest
                   -- call, the credential to the latest destructive call; then a fixed order.
                   QUALIFY row_number() OVER (
                       PARTITION BY l.event_id
                       ORDER BY CASE WHEN l.linked_event_id IS NOT NULL THEN 2
                                     WHEN l.reason NOT IN ('shell session', 'principal session')
                                     THEN 1 ELSE 0 END DESC,
                                CASE l.reason WHEN 'same statement' THEN -1
                                              WHEN 'same target' THEN 0
                                              WHEN 'same command' THEN 1
                                              WHEN 'cli user agent' THEN 2
                                              WHEN 'named resource' THEN 3
                                              WHEN 'same operation' THEN 4
                                              WHEN 'same credential' THEN 5 ELSE 6 END,
                                CASE l.reason WHEN 'same target' THEN (a.status = 'failure')::INT
                                              WHEN 'same credential'
                                              THEN (NOT a.destructive)::INT
                                              WHEN 'same command'
                                              THEN abs(epoch(a.time) - epoch(s.time)) END,
                                CASE WHEN l.reason = 'same command' THEN epoch(a.time)
                                     ELSE -epoch(a.time) END,
                                l.session_id, l.link_id) = 1) l USING (event_id)
    """,
)

VIEWS: tuple[View, ...] = (
    View(
        "destructive_events",
        "one row per destructive step: the agent's call, its shell line and the provider's record "
        "merged on call_key; target_env resolved from any source that knows it; session_kind "
        "'agent', 'shell' (inferred from shell history), 'principal' (a provider principal's "
        "burst) or NULL (no session); actor, source_ip and credential (key id, else fingerprint)",
        f"""
        SELECT session_key AS session_id, any_value({SESSION_KIND}) AS session_kind, call_key,
               min(step_time) AS time,
               coalesce(arg_min(operation, step_time) FILTER (WHERE kind <> 'api'),
                        arg_min(operation, step_time)) AS operation,
               arg_min(command, step_time) FILTER (WHERE command IS NOT NULL) AS command,
               any_value(target) FILTER (WHERE target IS NOT NULL) AS target,
               coalesce(any_value(target_env) FILTER (WHERE target_env <> 'unknown'),
                        'unknown') AS target_env,
               any_value(credential_fp) FILTER (WHERE credential_fp IS NOT NULL) AS credential_fp,
               CASE WHEN bool_or(status = 'failure') THEN 'failure'
                    WHEN bool_or(status = 'denied') THEN 'denied'
                    WHEN bool_or(status = 'success') THEN 'success' ELSE 'unknown' END AS status,
               bool_or(kind <> 'api') AS agent_call,
               bool_or(kind = 'api') AS provider_confirmed,
               min(step_time) FILTER (WHERE kind = 'api') AS provider_time,
               any_value(host) FILTER (WHERE host IS NOT NULL) AS host,
               any_value(agent) FILTER (WHERE agent NOT IN ('unknown')) AS agent,
               list(DISTINCT source ORDER BY source) AS sources,
               list(event_id ORDER BY step_time, event_id) AS event_ids,
               -- who, as the provider logged it (a sessionless record's only evidence); the
               -- first of the step's rows that names one, so every store of the same files
               -- says the same (watch or one-shot, whatever order the rows were stored in)
               coalesce(arg_min(actor, step_time) FILTER (WHERE kind = 'api' AND actor IS NOT NULL),
                        arg_min(actor, step_time) FILTER (WHERE actor IS NOT NULL)) AS actor,
               coalesce(arg_min(source_ip, step_time)
                            FILTER (WHERE kind = 'api' AND source_ip IS NOT NULL),
                        arg_min(source_ip, step_time) FILTER (WHERE source_ip IS NOT NULL))
                   AS source_ip,
               coalesce(any_value(credential_id) FILTER (WHERE credential_id IS NOT NULL),
                        any_value(credential_fp) FILTER (WHERE credential_fp IS NOT NULL))
                   AS credential
        FROM event_sessions WHERE destructive
        GROUP BY session_key, call_key
        """,
    ),
    View(
        "sessions",
        "one row per session, kind 'agent' (an agent's own, with the shell and provider rows "
        "linked to it) or 'shell' (shell lines no agent ran, inferred per history file and split "
        "on idle gaps): span, agent, sources, steps, destructive steps, environments, findings",
        f"""
        SELECT s.*, coalesce(f.findings, 0) AS findings, f.max_severity
        FROM (
            SELECT session_key AS session_id, any_value({SESSION_KIND}) AS kind,
                   any_value(agent) FILTER (WHERE agent NOT IN ('unknown')) AS agent,
                   any_value(host) FILTER (WHERE host IS NOT NULL) AS host,
                   any_value(cwd) FILTER (WHERE cwd IS NOT NULL) AS cwd,
                   min(step_time) AS started, max(step_time) AS ended,
                   epoch_ms(max(step_time)) - epoch_ms(min(step_time)) AS duration_ms,
                   count(*) AS events, count(DISTINCT call_key) AS steps,
                   count(DISTINCT call_key) FILTER (WHERE destructive) AS destructive_steps,
                   list(DISTINCT source ORDER BY source) AS sources,
                   list(DISTINCT target_env ORDER BY target_env)
                       FILTER (WHERE target_env NOT IN ('unknown')) AS environments
            FROM event_sessions WHERE session_key IS NOT NULL GROUP BY session_key
        ) s
        LEFT JOIN (
            SELECT session_id, count(*) AS findings,
                   arg_max(severity, {severity_rank_sql()}) AS max_severity
            FROM findings GROUP BY session_id
        ) f USING (session_id)
        """,
    ),
    View(
        "credential_uses",
        "one row per credential fingerprint per event: 'used' (the call authenticated with it) or "
        "'seen' (it was in a file read or a command's output); never the secret itself",
        """
        SELECT credential_fp AS fingerprint, 'used' AS how, step_time AS time,
               session_key AS session_id, call_key, source, kind, operation, target, target_env,
               destructive, cwd, event_id
        FROM event_sessions WHERE credential_fp IS NOT NULL
        UNION ALL
        SELECT fp AS fingerprint, 'seen' AS how, step_time AS time, session_key AS session_id,
               call_key, source, kind, operation, target, target_env, destructive, cwd, event_id
        FROM (SELECT *, unnest(secret_fps) AS fp FROM event_sessions
              WHERE len(secret_fps) > 0)
        WHERE fp IS DISTINCT FROM credential_fp
        """,
    ),
    View(
        "provider_confirmations",
        "one row per provider audit record (kind api), with the agent call it records when linked "
        "and the lag from that call to the record in ms",
        """
        SELECT p.event_id, p.source, p.step_time AS provider_time, p.operation, p.target,
               p.target_env, p.actor, p.status, p.destructive, p.session_key AS session_id,
               p.call_key, c.call_time, c.call_operation, c.credential_fp,
               c.call_time IS NOT NULL AS linked,
               epoch_ms(p.step_time) - epoch_ms(c.call_time) AS lag_ms
        FROM event_sessions p
        LEFT JOIN (
            SELECT call_key, min(step_time) AS call_time,
                   arg_min(operation, step_time) AS call_operation,
                   any_value(credential_fp) FILTER (WHERE credential_fp IS NOT NULL)
                       AS credential_fp
            FROM event_sessions WHERE kind <> 'api' GROUP BY call_key
        ) c ON c.call_key = p.call_key AND p.session_key IS NOT NULL
        WHERE p.kind = 'api'
        """,
    ),
    View(
        "incidents",
        "one row per alert (an incident is an alert group): status, severity, the span of the "
        "events its findings rest on (step_time), its findings and sessions",
        """
        SELECT a.alert_id AS incident_id, a.title, a.severity, a.status, a.session_id,
               coalesce(b.started, a.first_seen) AS started,
               coalesce(b.ended, a.last_seen) AS ended,
               epoch_ms(coalesce(b.ended, a.last_seen))
                   - epoch_ms(coalesce(b.started, a.first_seen)) AS duration_ms,
               len(a.finding_ids) AS findings, b.sessions, a.created_at, a.updated_at,
               a.notified_at
        FROM alerts a
        LEFT JOIN (
            SELECT x.alert_id, min(e.step_time) AS started, max(e.step_time) AS ended,
                   list(DISTINCT e.session_key ORDER BY e.session_key)
                       FILTER (WHERE e.session_key IS NOT NULL) AS sessions
            FROM alerts x, unnest(x.finding_ids) AS u(fid)
            JOIN findings f ON f.finding_id = u.fid, unnest(f.event_ids) AS v(eid)
            JOIN event_sessions e ON e.event_id = v.eid
            GROUP BY x.alert_id
        ) b USING (alert_id)
        """,
    ),
)

VIEW_NAMES = tuple(v.name for v in VIEWS)


def create_views(con: duckdb.DuckDBPyConnection, *, temporary: bool = False) -> None:
    """(Re)create every view; `temporary` for a read-only store that predates them."""
    kind = "TEMP VIEW" if temporary else "VIEW"
    for view in (EVENT_SESSIONS, *VIEWS):
        con.execute(f"CREATE OR REPLACE {kind} {view.name} AS {view.sql}")


def missing_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Views absent from the store, or stored by an older version (other columns)."""
    present = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    return [
        view.name
        for view in (EVENT_SESSIONS, *VIEWS)
        if view.name not in present or _columns(con, view.name) != _columns(con, view.sql)
    ]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    source = relation if relation in (*VIEW_NAMES, EVENT_SESSIONS.name) else f"({relation})"
    return [d[0] for d in con.execute(f"SELECT * FROM {source} LIMIT 0").description]
