"""Links: the same step seen from several sources, tied to the session that took it.

- a shell-history line with no session is the agent's tool call with the same command
  within a few seconds (shell history keeps whole seconds);
- a provider's audit record of a destructive operation is the agent's destructive call on
  the same target shortly before it (the provider logs after the fact);
- a provider record whose credential (keyed fingerprint) a session used or saw shortly before
  belongs to that session;
- a provider record whose user agent carries `app/<id>` (`AWS_SDK_UA_APP_ID`) belongs to the
  session with that id, or to the session whose command set `AWS_SDK_UA_APP_ID=<id>`;
- a shell line that launched an agent CLI (`claude --dangerously-skip-permissions`, `codex`,
  `gemini --yolo`, `q chat`...) belongs to the agent session that starts within
  LAUNCH_WINDOW_SECONDS after it: how the session was started is part of the session;
- an MCP call from Claude Code's MCP server log (which has no call id) is the transcript or
  hook call of the same session and tool nearest in time (within MCP_WINDOW_SECONDS);
- shell lines are grouped into shell sessions: the history's own session column (atuin) when
  the collector filled `session_id`, else runs of one history file split where the gap
  between commands exceeds SHELL_GAP_SECONDS (a file without times is one session); a line
  an agent ran is the agent's (its link to the agent wins).

A query links each line to its best candidate among the events it sees; run again when more
have arrived, it may add a better one. `event_sessions` picks one link per line by a fixed
order (a link to a call over a session-only link over a shell session, then each query's
own preference), so a line's session and call do not depend on the order its links were
found in.
"""

from __future__ import annotations

from agentaudit.store import Store
from agentaudit.taxonomy import agent_programs

SHELL_WINDOW_SECONDS = 10
PROVIDER_WINDOW_SECONDS = 300
CREDENTIAL_WINDOW_SECONDS = 3600
SHELL_GAP_SECONDS = 1800
LAUNCH_WINDOW_SECONDS = 600
MCP_WINDOW_SECONDS = 300
AGENT_CLIS = agent_programs()  # the programs that start a coding agent (agentaudit.taxonomy)

_SHELL_TO_AGENT = f"""
SELECT md5(s.event_id || a.event_id) AS link_id, s.event_id, a.event_id AS linked_event_id,
       a.session_id, 'same command' AS reason, now() AS created_at
FROM events s
JOIN events a ON a.command = s.command AND a.session_id IS NOT NULL AND a.kind = 'process'
     AND a.time BETWEEN s.time - INTERVAL {SHELL_WINDOW_SECONDS} SECOND
                    AND s.time + INTERVAL {SHELL_WINDOW_SECONDS} SECOND
WHERE s.origin = 'shell' AND s.session_id IS NULL AND s.command IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY s.event_id
                           ORDER BY abs(epoch(a.time) - epoch(s.time)), a.time) = 1
"""

_PROVIDER_TO_AGENT = f"""
SELECT md5(p.event_id || a.event_id) AS link_id, p.event_id, a.event_id AS linked_event_id,
       a.session_id, 'same target' AS reason, now() AS created_at
FROM events p
JOIN events a ON a.target = p.target AND a.session_id IS NOT NULL AND a.destructive
     AND a.kind = 'process'
     AND a.time BETWEEN p.time - INTERVAL {PROVIDER_WINDOW_SECONDS} SECOND
                    AND p.time + INTERVAL 5 SECOND
WHERE p.kind = 'api' AND p.destructive AND p.session_id IS NULL AND p.target IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY p.event_id
                           ORDER BY (a.status = 'failure'), a.time DESC) = 1
"""

# The call that sent the credential is the same step; a session that only saw it owns it.
_PROVIDER_BY_CREDENTIAL = f"""
SELECT md5(p.event_id || a.event_id || 'credential') AS link_id, p.event_id,
       CASE WHEN a.credential_fp = p.credential_fp
             AND a.time >= p.time - INTERVAL {PROVIDER_WINDOW_SECONDS} SECOND
            THEN a.event_id END AS linked_event_id,
       a.session_id, 'same credential' AS reason, now() AS created_at
FROM events p
JOIN events a ON a.session_id IS NOT NULL AND a.kind <> 'api'
     AND (a.credential_fp = p.credential_fp OR list_contains(a.secret_fps, p.credential_fp))
     AND a.time BETWEEN p.time - INTERVAL {CREDENTIAL_WINDOW_SECONDS} SECOND
                    AND p.time + INTERVAL 5 SECOND
WHERE p.kind = 'api' AND p.session_id IS NULL AND p.credential_fp IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY p.event_id
                           ORDER BY (a.credential_fp = p.credential_fp) DESC, a.destructive DESC,
                                    a.time DESC) = 1
"""

_PROVIDER_BY_USER_AGENT = f"""
WITH tagged AS (
    SELECT event_id, time,
           regexp_extract(user_agent, '(?:^| )app/([A-Za-z0-9._:#-]+)', 1) AS app_id
    FROM events
    WHERE kind = 'api' AND session_id IS NULL AND contains(user_agent, 'app/')
), matched AS (  -- two equi-joins (the session's own id, an id a command set), not one OR join
    SELECT t.event_id AS tagged_id, t.time AS tagged_time, e.session_id, e.event_id, e.time
    FROM tagged t JOIN events e ON e.session_id = t.app_id
    UNION ALL
    SELECT t.event_id, t.time, e.session_id, e.event_id, e.time
    FROM tagged t
    JOIN (SELECT session_id, event_id, time,
                 nullif(regexp_extract(command, 'AWS_SDK_UA_APP_ID=["'']?([A-Za-z0-9._:#-]+)', 1),
                        '') AS set_id
          FROM events
          WHERE session_id IS NOT NULL AND contains(command, 'AWS_SDK_UA_APP_ID=')) e
      ON e.set_id = t.app_id
)
SELECT md5(tagged_id || event_id || 'user agent') AS link_id, tagged_id AS event_id,
       NULL AS linked_event_id, session_id, 'user agent app id' AS reason,
       now() AS created_at
FROM matched
WHERE time <= tagged_time + INTERVAL 5 SECOND
  AND time >= tagged_time - INTERVAL {CREDENTIAL_WINDOW_SECONDS} SECOND
QUALIFY row_number() OVER (PARTITION BY tagged_id ORDER BY time DESC) = 1
"""

_AGENTS_SQL = ", ".join(f"'{a}'" for a in AGENT_CLIS)
# A sessionless shell line that launched an agent CLI (SQL on one event).
LAUNCH_LINE = (
    "origin = 'shell' AND session_id IS NULL AND command IS NOT NULL AND "
    f"regexp_extract(command, '^\\s*(?:\\S+=\\S+\\s+)*(?:\\S*/)?([\\w-]+)', 1) IN ({_AGENTS_SQL})"
)
_AGENT_LAUNCH = f"""
WITH launches AS (
    SELECT event_id, time FROM events
    WHERE {LAUNCH_LINE}
      AND event_id NOT IN (SELECT event_id FROM links WHERE reason = 'same command')
), starts AS (
    SELECT session_id, min(time) AS started FROM events
    WHERE session_id IS NOT NULL AND origin IS DISTINCT FROM 'shell' GROUP BY session_id
)
SELECT md5(l.event_id || s.session_id || 'launch') AS link_id, l.event_id,
       NULL AS linked_event_id, s.session_id, 'agent launch' AS reason, now() AS created_at
FROM launches l JOIN starts s
  ON s.started BETWEEN l.time AND l.time + INTERVAL {LAUNCH_WINDOW_SECONDS} SECOND
QUALIFY row_number() OVER (PARTITION BY l.event_id ORDER BY s.started) = 1
"""

# A call from Claude Code's MCP server log, which carries no call id (SQL on one event; the
# query below says the same of `m`).
MCP_LOG_CALL = "source = 'claude-code.mcp' AND tool_call_id IS NULL AND tool_name IS NOT NULL"
_MCP_LOG_TO_CALL = f"""
SELECT md5(m.event_id || a.event_id || 'mcp') AS link_id, m.event_id,
       a.event_id AS linked_event_id, a.session_id, 'same mcp call' AS reason,
       now() AS created_at
FROM events m
JOIN events a ON a.session_id = m.session_id AND a.tool_name = m.tool_name
     AND a.tool_call_id IS NOT NULL AND a.source <> m.source
     AND a.time BETWEEN m.time - INTERVAL {MCP_WINDOW_SECONDS} SECOND
                    AND m.time + INTERVAL {MCP_WINDOW_SECONDS} SECOND
WHERE m.source = 'claude-code.mcp' AND m.tool_call_id IS NULL AND m.tool_name IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY m.event_id
                           ORDER BY abs(epoch(a.time) - epoch(m.time)), a.time) = 1
"""

# Every sessionless shell line gets its shell session once: runs of one history file split
# where the gap between commands exceeds SHELL_GAP_SECONDS (a file without times is one
# session), named by the run's first line. A line an agent ran still counts in the run (its
# link to the agent wins in `event_sessions`), so a link found later changes no other line's
# shell session. A run continues the shell session of its latest line already placed: linked
# a batch at a time (`watch`, whose window holds each file's line before the batch), lines
# get the sessions one pass over the whole file gives.
_SHELL_SESSIONS = f"""
WITH lines AS (
    SELECT e.event_id, e.source_path, e.time, e.seq, k.session_id AS known
    FROM events e
    LEFT JOIN (SELECT event_id, any_value(session_id) AS session_id FROM links
               WHERE reason = 'shell session' GROUP BY event_id) k USING (event_id)
    WHERE e.origin = 'shell' AND e.session_id IS NULL
), gaps AS (
    SELECT *, CASE WHEN time - lag(time) OVER w > INTERVAL {SHELL_GAP_SECONDS} SECOND
                   THEN 1 ELSE 0 END AS new_session
    FROM lines WINDOW w AS (PARTITION BY source_path ORDER BY seq)
), numbered AS (
    SELECT *, sum(new_session) OVER (PARTITION BY source_path ORDER BY seq
                                     ROWS UNBOUNDED PRECEDING) AS n
    FROM gaps
), sessions AS (
    SELECT *, coalesce(
                last_value(known IGNORE NULLS) OVER (PARTITION BY source_path, n ORDER BY seq
                                                     ROWS UNBOUNDED PRECEDING),
                'shell:' || substr(md5(source_path || ':' ||
                                       first_value(event_id) OVER (PARTITION BY source_path, n
                                                                   ORDER BY seq)), 1, 16))
              AS shell_session
    FROM numbered
)
SELECT md5(event_id || shell_session) AS link_id, event_id, NULL AS linked_event_id,
       shell_session AS session_id, 'shell session' AS reason, now() AS created_at
FROM sessions
WHERE known IS NULL
"""


# Each query starts from one kind of line: a sessionless shell line or a provider record.
# A caller that knows its events hold none of one kind can skip that family (`watch` does).
SHELL_LINKS = (_SHELL_TO_AGENT, _AGENT_LAUNCH, _SHELL_SESSIONS)  # in this order
PROVIDER_LINKS = (_PROVIDER_TO_AGENT, _PROVIDER_BY_CREDENTIAL, _PROVIDER_BY_USER_AGENT)
AGENT_LINKS = (_MCP_LOG_TO_CALL,)  # one agent's records of one call, from two of its logs


def link_events(store: Store, shell: bool = True, provider: bool = True) -> int:
    """Add the links the stored events imply; returns how many are new."""
    added = 0
    for sql in (
        _SHELL_TO_AGENT,
        _PROVIDER_TO_AGENT,
        _PROVIDER_BY_CREDENTIAL,
        _PROVIDER_BY_USER_AGENT,
        _AGENT_LAUNCH,
        _SHELL_SESSIONS,
        _MCP_LOG_TO_CALL,
    ):
        if (
            sql in AGENT_LINKS
            or (sql in SHELL_LINKS and shell)
            or (sql in PROVIDER_LINKS and provider)
        ):
            added += store.append("links", store.query(sql))
    return added
