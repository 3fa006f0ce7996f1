"""Links: the same step seen from several sources, tied to the session that took it.

- a shell-history line with no session is the agent's tool call with the same command
  within a few seconds (shell history keeps whole seconds);
- a provider's audit record of a destructive operation is the agent's destructive call on
  the same target shortly before it (the provider logs after the fact);
- a provider record whose user agent names a CLI (Terraform, helm, kubectl, gcloud, az,
  aws-cli, gh, git) is the latest agent call of that CLI that started before it, within
  CLI_WINDOW_SECONDS; a database's audit record of a SQL statement is the call whose command
  holds the statement; a record of a resource the call names (a word of the command) is the
  latest such call within PROVIDER_WINDOW_SECONDS; the other records of a linked record's
  provider operation (operation id) and a controller's cascade follow it;
- a provider record whose credential (keyed fingerprint) a session used or saw shortly before
  belongs to that session;
- a provider record whose user agent carries `app/<id>` (`AWS_SDK_UA_APP_ID`) belongs to the
  session with that id, or to the session whose command set `AWS_SDK_UA_APP_ID=<id>`;
- a shell line that launched an agent CLI (`claude --dangerously-skip-permissions`, `codex`,
  `gemini --yolo`, `q chat`...) belongs to the agent session that starts within
  LAUNCH_WINDOW_SECONDS after it: how the session was started is part of the session;
- sessionless provider records are grouped by principal (actor, else credential id) into
  bursts split where the gap exceeds PRINCIPAL_GAP_SECONDS ('principal:<hash>'); a burst
  one of whose records is linked to an agent session joins that session;
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

import re

from agentaudit.store import Store
from agentaudit.taxonomy import agent_programs

SHELL_WINDOW_SECONDS = 10
PROVIDER_WINDOW_SECONDS = 300
CREDENTIAL_WINDOW_SECONDS = 3600
SHELL_GAP_SECONDS = 1800
LAUNCH_WINDOW_SECONDS = 600
PRINCIPAL_GAP_SECONDS = 1800
# Links that only say which inferred session a line is in (not which agent call it is).
PROVISIONAL_REASONS = "('shell session', 'principal session')"
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

# The CLI an agent call ran, known by the user agent it sends to the provider. A record with
# that user agent is the latest such call that started before it (within CLI_WINDOW_SECONDS:
# a `terraform destroy` runs for minutes); the program must be a word of the command.
CLI_WINDOW_SECONDS = 1800
CLI_USER_AGENTS = {
    "terraform": ("Terraform/", "terraform-provider-"),
    "helm": ("Helm/",),
    "kubectl": ("kubectl/",),
    "gcloud": ("google-cloud-sdk", "gcloud/"),
    "cloud-sql-proxy": ("cloud-sql-proxy/", "cloud_sql_proxy"),
    "az": ("AZURECLI/", "azure-cli"),
    "aws": ("aws-cli/",),
    "gh": ("GitHub CLI",),
    "git": ("git/",),
    "pulumi": ("pulumi/",),
    "eksctl": ("eksctl",),
}
_CLI_VALUES = ", ".join(
    f"('{cli}', '{marker}')" for cli, markers in CLI_USER_AGENTS.items() for marker in markers
)
_CLI_NAMES = "|".join(re.escape(cli) for cli in CLI_USER_AGENTS)
_PROVIDER_BY_CLI = rf"""
WITH clis(cli, marker) AS (VALUES {_CLI_VALUES}),
records AS (
    SELECT p.event_id, p.time, c.cli
    FROM events p JOIN clis c ON contains(coalesce(p.user_agent, ''), c.marker)
    WHERE p.kind = 'api' AND p.session_id IS NULL AND p.time IS NOT NULL
      -- a user agent naming its session (`app/<id>`) is attributed by that id alone
      AND NOT contains(coalesce(p.user_agent, ''), ' app/')
), calls AS (
    -- the programs each call runs (enriched argvs, wrappers stripped); a call stored
    -- without argvs: CLI names as words of its command (one constant pattern, compiled once)
    SELECT a.event_id, a.session_id, a.time, a.status, program AS cli
    FROM (SELECT event_id, session_id, time, status,
                 CASE WHEN argvs IS NOT NULL
                      THEN list_transform(argvs, lambda x: regexp_replace(x[1], '^.*/', ''))
                      ELSE regexp_extract_all(command, '(?:^|[\s;&|(/])({_CLI_NAMES})(?:\s|$)', 1)
                 END AS programs
          FROM events
          WHERE kind = 'process' AND session_id IS NOT NULL AND time IS NOT NULL
            AND command IS NOT NULL) a,
         unnest(list_distinct(a.programs)) AS t(program)
    WHERE program IN (SELECT cli FROM clis)
)
SELECT md5(r.event_id || a.event_id || 'cli') AS link_id, r.event_id,
       a.event_id AS linked_event_id, a.session_id, 'cli user agent' AS reason,
       now() AS created_at
FROM records r JOIN calls a ON a.cli = r.cli
     AND a.time BETWEEN r.time - INTERVAL {CLI_WINDOW_SECONDS} SECOND
                    AND r.time + INTERVAL 2 SECOND
QUALIFY row_number() OVER (PARTITION BY r.event_id
                           ORDER BY a.time DESC, (a.status = 'failure'), a.event_id) = 1
"""

# A database's audit record of a SQL statement (pgAudit in Cloud SQL's data_access log) is
# the agent call whose command holds the statement: its first words, compared without case
# and runs of spaces, within CLI_WINDOW_SECONDS.
_PROVIDER_BY_STATEMENT = rf"""
WITH records AS (
    SELECT event_id, time,
           lower(regexp_replace(left(trim(regexp_extract(raw,
               '"statement"\s*:\s*"((?:[^"\\]|\\.)*)"', 1)), 48), '\s+', ' ', 'g')) AS head
    FROM events
    WHERE kind = 'api' AND session_id IS NULL AND contains(raw, '"statement"')
)
SELECT md5(r.event_id || a.event_id || 'statement') AS link_id, r.event_id,
       a.event_id AS linked_event_id, a.session_id, 'same statement' AS reason,
       now() AS created_at
FROM records r JOIN events a
  ON a.kind = 'process' AND a.session_id IS NOT NULL AND a.command IS NOT NULL
 AND contains(lower(regexp_replace(a.command, '\s+', ' ', 'g')), r.head)
 AND coalesce(a.time BETWEEN r.time - INTERVAL {CLI_WINDOW_SECONDS} SECOND
                         AND r.time + INTERVAL 2 SECOND, TRUE)
WHERE length(r.head) >= 8
QUALIFY row_number() OVER (PARTITION BY r.event_id ORDER BY a.time DESC, a.event_id) = 1
"""

# A provider record of a resource the agent call names (a resource group, a lock, a bucket:
# any segment of the record's target of 6+ characters, as a word of the command) is the
# latest such call that started up to PROVIDER_WINDOW_SECONDS before it.
_PROVIDER_BY_NAMED_RESOURCE = rf"""
WITH records AS (
    SELECT DISTINCT event_id, time, name
    FROM (SELECT event_id, time, unnest(regexp_split_to_array(target, '[/:]')) AS name
          FROM events
          WHERE kind = 'api' AND session_id IS NULL AND target IS NOT NULL
            AND time IS NOT NULL)
    WHERE length(name) >= 6
), span AS (
    SELECT min(time) - INTERVAL {PROVIDER_WINDOW_SECONDS} SECOND AS lo,
           max(time) + INTERVAL 2 SECOND AS hi
    FROM records
), calls AS (
    SELECT event_id, session_id, time, command
    FROM events, span
    WHERE kind = 'process' AND session_id IS NOT NULL AND command IS NOT NULL
      AND time BETWEEN span.lo AND span.hi
), words AS (  -- a name of word characters is a whole word: an equality join, no regex per pair
    SELECT DISTINCT event_id, session_id, time,
           unnest(regexp_split_to_array(command, '[^\w.-]+')) AS word
    FROM calls
), pairs AS (
    SELECT r.event_id, r.name, a.event_id AS call_id, a.session_id, a.time
    FROM records r JOIN words a ON a.word = r.name
     AND a.time BETWEEN r.time - INTERVAL {PROVIDER_WINDOW_SECONDS} SECOND
                    AND r.time + INTERVAL 2 SECOND
    WHERE regexp_full_match(r.name, '[\w.-]+')
    UNION ALL
    SELECT r.event_id, r.name, a.event_id, a.session_id, a.time
    FROM records r JOIN calls a ON contains(a.command, r.name)
     AND a.time BETWEEN r.time - INTERVAL {PROVIDER_WINDOW_SECONDS} SECOND
                    AND r.time + INTERVAL 2 SECOND
    WHERE NOT regexp_full_match(r.name, '[\w.-]+')
      AND regexp_matches(a.command, '(^|[^\w.-])' || regexp_escape(r.name) || '([^\w.-]|$)')
)
SELECT md5(event_id || call_id || 'named') AS link_id, event_id,
       call_id AS linked_event_id, session_id, 'named resource' AS reason,
       now() AS created_at
FROM pairs
QUALIFY row_number() OVER (PARTITION BY event_id
                           ORDER BY time DESC, length(name) DESC, call_id) = 1
"""

# What follows a linked record: the other records of its provider operation (Azure
# correlationId, GCP operation id: one `az group delete` deletes every resource of the group
# under one id), and a controller's cascade (records made on behalf of another, within
# CASCADE_SECONDS, in the namespace or under the resource the linked record deleted).
CASCADE_SECONDS = 120
_FOLLOWS_LINKED_RECORD = f"""
WITH linked AS (
    SELECT l.event_id, l.linked_event_id, l.session_id, q.operation_id, q.time, q.target
    FROM links l JOIN events q ON q.event_id = l.event_id
    WHERE l.linked_event_id IS NOT NULL AND q.kind = 'api'
), unlinked AS (
    SELECT * FROM events
    WHERE kind = 'api' AND session_id IS NULL
      AND event_id NOT IN (SELECT event_id FROM links WHERE linked_event_id IS NOT NULL)
)
SELECT md5(p.event_id || q.linked_event_id || 'follows') AS link_id, p.event_id,
       q.linked_event_id, q.session_id, 'same operation' AS reason, now() AS created_at
FROM unlinked p JOIN linked q
  ON (p.operation_id = q.operation_id)
  OR (p.on_behalf_of IS NOT NULL AND p.destructive
      AND p.time BETWEEN q.time AND q.time + INTERVAL {CASCADE_SECONDS} SECOND
      AND (split_part(p.target, '/', 1) = regexp_extract(q.target, '[^/]+$')
           OR starts_with(p.target, q.target || '/')))
QUALIFY row_number() OVER (PARTITION BY p.event_id
                           ORDER BY (p.operation_id = q.operation_id) DESC, q.time DESC,
                                    q.linked_event_id) = 1
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

# Sessionless provider records of one principal (the actor, else the credential the provider
# logged) form a burst until a gap of PRINCIPAL_GAP_SECONDS: what a human calls one incident
# (one attack simulation, one Terraform destroy), named 'principal:<hash>' by the principal and
# the burst's first record. Untimed records join the burst before them. A record a link ties
# to an agent call or session keeps that (it wins in `event_sessions`); a run continues the
# burst of its principal's latest record already placed, as shell sessions do.
_PRINCIPAL_SESSIONS = f"""
WITH records AS (
    SELECT e.event_id, e.time, e.seq, e.source_path,
           coalesce(e.actor, e.credential_id, e.credential_fp) AS principal,
           k.session_id AS known
    FROM events e
    LEFT JOIN (SELECT event_id, any_value(session_id) AS session_id FROM links
               WHERE reason = 'principal session' GROUP BY event_id) k USING (event_id)
    WHERE e.kind = 'api' AND e.session_id IS NULL
      AND coalesce(e.actor, e.credential_id, e.credential_fp) IS NOT NULL
), gaps AS (
    SELECT *, CASE WHEN time - lag(time IGNORE NULLS) OVER w
                        > INTERVAL {PRINCIPAL_GAP_SECONDS} SECOND
                   THEN 1 ELSE 0 END AS new_burst
    FROM records WINDOW w AS (PARTITION BY principal ORDER BY time NULLS LAST, source_path, seq)
), numbered AS (
    SELECT *, sum(new_burst) OVER (PARTITION BY principal
                                   ORDER BY time NULLS LAST, source_path, seq, event_id
                                   ROWS UNBOUNDED PRECEDING) AS n
    FROM gaps
), bursts AS (
    SELECT *, coalesce(
                last_value(known IGNORE NULLS) OVER (PARTITION BY principal, n
                                                     ORDER BY time NULLS LAST, source_path, seq,
                                                              event_id
                                                     ROWS UNBOUNDED PRECEDING),
                'principal:' || substr(md5(principal || ':' ||
                                           first_value(event_id) OVER (
                                               PARTITION BY principal, n
                                               ORDER BY time NULLS LAST, source_path, seq,
                                                        event_id)), 1, 16)) AS burst
    FROM numbered
)
SELECT md5(event_id || burst) AS link_id, event_id, NULL AS linked_event_id,
       burst AS session_id, 'principal session' AS reason, now() AS created_at
FROM bursts
WHERE known IS NULL
"""

# A record of a burst joins the agent session of the burst's record that a link ties to a
# call within PROVIDER_WINDOW_SECONDS of it (the plan's other resources, the reads around the
# delete); the principal's own work twenty minutes earlier stays out.
_PRINCIPAL_JOINS_AGENT = f"""
WITH bursts AS (
    SELECT l.event_id, l.session_id AS burst, e.time
    FROM links l JOIN events e USING (event_id) WHERE l.reason = 'principal session'
), owned AS (
    SELECT b.burst, b.time, l.session_id
    FROM bursts b JOIN links l ON l.event_id = b.event_id
    WHERE l.reason NOT IN {PROVISIONAL_REASONS} AND l.reason <> 'same principal'
)
SELECT md5(b.event_id || o.session_id || 'principal') AS link_id, b.event_id,
       NULL AS linked_event_id, o.session_id, 'same principal' AS reason, now() AS created_at
FROM bursts b JOIN owned o
  ON o.burst = b.burst
 AND abs(epoch(o.time) - epoch(b.time)) <= {PROVIDER_WINDOW_SECONDS}
WHERE b.event_id NOT IN (SELECT event_id FROM links WHERE reason NOT IN {PROVISIONAL_REASONS})
QUALIFY row_number() OVER (PARTITION BY b.event_id
                           ORDER BY abs(epoch(o.time) - epoch(b.time)), o.session_id) = 1
"""


# Each query starts from one kind of line: a sessionless shell line or a provider record.
# A caller that knows its events hold none of one kind can skip that family (`watch` does).
SHELL_LINKS = (_SHELL_TO_AGENT, _AGENT_LAUNCH, _SHELL_SESSIONS)  # in this order
PROVIDER_LINKS = (
    _PROVIDER_TO_AGENT,
    _PROVIDER_BY_STATEMENT,
    _PROVIDER_BY_CLI,
    _PROVIDER_BY_NAMED_RESOURCE,
    _FOLLOWS_LINKED_RECORD,
    _PROVIDER_BY_CREDENTIAL,
    _PROVIDER_BY_USER_AGENT,
    _PRINCIPAL_SESSIONS,
    _PRINCIPAL_JOINS_AGENT,
)
AGENT_LINKS = (_MCP_LOG_TO_CALL,)  # one agent's records of one call, from two of its logs


def link_events(store: Store, shell: bool = True, provider: bool = True) -> int:
    """Add the links the stored events imply; returns how many are new."""
    added = 0
    for sql in (
        _SHELL_TO_AGENT,
        _PROVIDER_TO_AGENT,
        _PROVIDER_BY_STATEMENT,
        _PROVIDER_BY_CLI,
        _PROVIDER_BY_NAMED_RESOURCE,
        _PROVIDER_BY_CREDENTIAL,
        _FOLLOWS_LINKED_RECORD,
        _PROVIDER_BY_USER_AGENT,
        _AGENT_LAUNCH,
        _SHELL_SESSIONS,
        _PRINCIPAL_SESSIONS,
        _PRINCIPAL_JOINS_AGENT,
        _MCP_LOG_TO_CALL,
    ):
        if (
            sql in AGENT_LINKS
            or (sql in SHELL_LINKS and shell)
            or (sql in PROVIDER_LINKS and provider)
        ):
            added += store.append("links", store.query(sql))
    return added
