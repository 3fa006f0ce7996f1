"""Links: the same step seen from several sources, tied to the agent session that took it.

- a shell-history line with no session is the agent's tool call with the same command
  within a few seconds (shell history keeps whole seconds);
- a provider's audit record of a destructive operation is the agent's destructive call on
  the same target shortly before it (the provider logs after the fact).
"""

from __future__ import annotations

from agentaudit.store import Store

SHELL_WINDOW_SECONDS = 10
PROVIDER_WINDOW_SECONDS = 300

_SHELL_TO_AGENT = f"""
SELECT md5(s.event_id || a.event_id) AS link_id, s.event_id, a.event_id AS linked_event_id,
       a.session_id, 'same command' AS reason, now() AS created_at
FROM events s
JOIN events a ON a.command = s.command AND a.session_id IS NOT NULL AND a.kind = 'process'
     AND a.time BETWEEN s.time - INTERVAL {SHELL_WINDOW_SECONDS} SECOND
                    AND s.time + INTERVAL {SHELL_WINDOW_SECONDS} SECOND
WHERE s.source LIKE 'shell.%' AND s.session_id IS NULL AND s.command IS NOT NULL
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


def link_events(store: Store) -> int:
    """Add the links the stored events imply; returns how many are new."""
    added = 0
    for sql in (_SHELL_TO_AGENT, _PROVIDER_TO_AGENT):
        added += store.append("links", store.query(sql))
    return added
