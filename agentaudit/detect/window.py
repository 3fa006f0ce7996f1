"""What one detection run reads: the whole store, or a recent window of it (`watch`).

The detectors and the linker read `events` (through the `event_sessions` view). With a
`Window`, a connection-local TEMP view named `events` shadows the table with the window,
copied once into a temp table: every event ingested since `since`; the *notable* events
(destructive, carrying a secret or a credential, above info, or a provider record) of the
`seconds` before the oldest of them (event time); the context of the sessions the batch
touches (their prompts, file reads and failures, however old); and what linking needs: the
calls of the 10 s before it whose command a new sessionless shell line repeats, the
sessionless shell lines an agent call of the batch repeats, the lines that launched an agent
CLI, and each history file's line before the batch (its shell session goes on).
`context: all` keeps every event of the window instead (for detectors that need the plain
calls too; slower under heavy load). Detectors and linking run unchanged, over a few
thousand rows instead of the whole store.

Settling (window only). A sessionless line (shell history, a provider record) is linked to
its agent call when both have arrived. Until it is linked, and for `settle_seconds` after it
was ingested, it is kept out of the detectors' view, so one incident is not paged twice
(once as an orphan, once again as its session); after that it is detected on its own. An
inferred shell session is not a link to an agent: a line that has only that still waits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from agentaudit.detect.base import Detector
from agentaudit.detect.link import (
    LAUNCH_LINE,
    MCP_LOG_CALL,
    PROVISIONAL_REASONS,
    SHELL_GAP_SECONDS,
    SHELL_WINDOW_SECONDS,
    link_events,
)
from agentaudit.store import Store, now

# Context kept for the whole window: what a rule or correlation can build on.
NOTABLE = (
    "(destructive OR secret_fps IS NOT NULL OR credential_fp IS NOT NULL "
    "OR severity <> 'info' OR kind = 'api')"
)
# Plain calls this close before the batch are context when a sessionless shell line of the
# batch has the same command: linking the line to its agent call needs them.
RECENT_ALL_SECONDS = SHELL_WINDOW_SECONDS
# What a link starts from (detect/link.py): a sessionless shell line or provider record.
_SHELL_LINE = "origin = 'shell' AND session_id IS NULL"
_PROVIDER_RECORD = "kind = 'api' AND session_id IS NULL"
_UNLINKED = (
    f"event_id NOT IN (SELECT event_id FROM {{links}} WHERE reason NOT IN {PROVISIONAL_REASONS})"
)
# An agent's event (of the batch: it can be a better link for a line already linked).
_AGENT = "session_id IS NOT NULL AND origin IS DISTINCT FROM 'shell'"
# ... that a provider record can be: the destructive call on its target, the call that sent
# or saw its credential.
_PROVIDER_CANDIDATE = (
    f"{_AGENT} AND ((destructive AND target IS NOT NULL) "
    "OR credential_fp IS NOT NULL OR secret_fps IS NOT NULL)"
)

_EVENTS_VIEW = "CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM window_events"
_LINKS_VIEW = (
    "CREATE OR REPLACE TEMP VIEW links AS SELECT * FROM {links} "
    "WHERE event_id IN (SELECT event_id FROM window_events)"
)
_SESSIONS_VIEW = "CREATE OR REPLACE TEMP VIEW event_sessions AS SELECT * FROM window_sessions"


@dataclass(frozen=True)
class Window:
    """Detect over events ingested at or after `since`, with their recent context.

    `held_since`: sessionless lines ingested since then that an earlier run held back to
    settle come back (only they: the batch does not grow with everything ingested meanwhile).
    """

    since: datetime | None
    held_since: datetime | None = None
    seconds: float = 600.0
    settle_seconds: float = 2.0
    context: str = "notable"


@dataclass
class Settling:
    """Sessionless lines a windowed run held back: run again `until`, with `since` as
    the next window's `held_since`."""

    until: datetime | None = None
    since: datetime | None = None


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


class Scope:
    """The whole store: what one-shot `detect` reads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settling = Settling()
        self.size: int | None = None

    def open(self) -> None:
        return None

    def link(self) -> int:
        return link_events(self.store)

    def hold_unsettled(self) -> None:
        return None

    def narrow_sessions(self) -> None:
        return None

    def unshadow(self) -> None:
        """The store's own tables, for code that must read them mid-run (a page)."""
        return None

    def reshadow(self) -> None:
        return None

    def close(self) -> None:
        return None

    def has(self, conditions: list[str]) -> list[bool]:
        """For each SQL condition on one event: does any event in scope meet it (one scan)."""
        if not conditions:
            return []
        columns = ", ".join(f"coalesce(bool_or({c}), FALSE)" for c in conditions)
        return list(self.store.con.execute(f"SELECT {columns} FROM {self._events}").fetchall()[0])

    _events = "events"

    def in_scope(self, event_ids: Collection[str]) -> set[str]:
        """Which of these events the detectors could see."""
        return set(event_ids)

    def anchored(self, detectors: list[Detector]) -> list[Detector]:
        """The detectors whose anchor event is in scope (or that have none). Over the whole
        store every detector runs: looking for the anchors there costs what the detectors'
        own queries cost (the Sigma pack's anchor is its every clause), and a detector whose
        anchor is absent finds nothing anyway."""
        return list(detectors)

    def _anchored(self, detectors: list[Detector]) -> list[Detector]:
        anchored = [d for d in detectors if d.anchor]
        try:
            found = self.has([str(d.anchor) for d in anchored])
        except duckdb.Error:  # a broken anchor (a user's rule) must not skip anything
            return list(detectors)
        present = dict(zip([id(d) for d in anchored], found, strict=True))
        return [d for d in detectors if not d.anchor or present[id(d)]]


class WindowScope(Scope):
    """A recent window of the store, shadowing `events`, `links` and `event_sessions`."""

    def anchored(self, detectors: list[Detector]) -> list[Detector]:
        """The detectors whose anchor event is in the window (or that have none): benign
        load (agent hook lines with no destructive call) runs none."""
        return self._anchored(detectors)

    _events = "window_events"

    def __init__(self, store: Store, window: Window) -> None:
        super().__init__(store)
        self.window = window
        self.started = now()
        catalog = store.con.execute("SELECT current_database()").fetchall()[0][0]
        self.table = f'"{catalog}".main.events'
        self.links_table = f'"{catalog}".main.links'
        self.sessions_view = f'"{catalog}".main.event_sessions'
        self.since = window.since or window.held_since or self.started
        self.batch = f"ingested_at >= {_ts(self.since)}"
        held = window.held_since
        if held is not None and held < self.since:
            self.batch = f"({self.batch} OR (ingested_at >= {_ts(held)} AND session_id IS NULL))"
        settled_at = now() - timedelta(seconds=window.settle_seconds)
        # (an inferred shell session is not the agent call the line may still be linked to)
        self.unsettled = (
            f"session_id IS NULL AND ingested_at > {_ts(settled_at)} AND event_id NOT IN "
            f"(SELECT event_id FROM {self.links_table} WHERE reason NOT IN {PROVISIONAL_REASONS})"
        )

    def _window_sql(self) -> str:
        table, batch, window = self.table, self.batch, self.window
        first = self.store.con.execute(f"SELECT min(time) FROM {table} WHERE {batch}")
        oldest = first.fetchall()[0][0]
        # One SELECT per part, so each can skip row groups by its own column's min/max
        # (an OR of them would scan the whole table).
        parts = [f"ingested_at >= {_ts(self.since)}"]
        if window.held_since is not None and window.held_since < self.since:
            parts.append(f"ingested_at >= {_ts(window.held_since)} AND session_id IS NULL")
        if oldest is not None:
            start = _ts(oldest - timedelta(seconds=window.seconds))
            if window.context == "all":
                parts.append(f"time >= {start}")
            else:
                recent = _ts(oldest - timedelta(seconds=RECENT_ALL_SECONDS))
                shell_commands = (
                    f"SELECT command FROM {table} WHERE {batch} "
                    "AND session_id IS NULL AND command IS NOT NULL"
                )
                # (and the lines that launched an agent CLI: a session starting in the batch
                # may be theirs; one scan with the notable events, both over the window)
                parts.append(f"time >= {start} AND ({NOTABLE} OR ({LAUNCH_LINE}))")
                parts.append(f"time >= {recent} AND command IN ({shell_commands})")
                # and the other way round: the lines an agent call of the batch may be
                agent_commands = (
                    f"SELECT command FROM {table} WHERE {batch} AND {_AGENT} "
                    "AND kind = 'process' AND command IS NOT NULL"
                )
                parts.append(
                    f"time >= {recent} AND {_SHELL_LINE} AND command IN ({agent_commands})"
                )
            # each history file's line before the batch: its shell session goes on
            before = self._lines_before_batch()
            if before:
                parts.append(f"event_id IN ({before})")
            # The sessions this batch touches keep their context however old it is: the
            # task's own words, the files read (.env.staging), failures. Behaviours such as
            # environment-scope judge a call by them, as a one-shot `detect` does.
            # (touched: a new event is theirs, or a notable event of the window is: a
            # provider record arriving last has no session, but the call it records has;
            # two SELECTs, each pruned by its own column's min/max, not one OR)
            touched = (
                f"SELECT session_id FROM {table} WHERE session_id IS NOT NULL AND {batch} "
                f"UNION SELECT session_id FROM {table} WHERE session_id IS NOT NULL "
                f"AND time >= {start} AND {NOTABLE}"
            )
            parts.append(
                f"session_id IN ({touched}) AND (kind IN ('message', 'file') "
                f"OR status = 'failure' OR {NOTABLE})"
            )
        union = " UNION ALL ".join(f"SELECT * FROM {table} WHERE {part}" for part in parts)
        return f"SELECT * FROM ({union}) QUALIFY row_number() OVER (PARTITION BY event_id) = 1"

    def _lines_before_batch(self) -> str:
        """Per history file with sessionless lines in the batch, its line just before them
        (older than a session gap: no matter, the batch starts a session anyway). SQL for
        their ids, or "" when the batch has no shell line."""
        files = self.store.con.execute(
            f"""SELECT source_path, min(seq), min(time) FROM {self.table}
                WHERE {self.batch} AND {_SHELL_LINE} GROUP BY source_path"""
        ).fetchall()
        if not files:
            return ""
        # lines without a time (plain bash history, a timestamp out of range) bound nothing
        times = [t for _, _, t in files if t is not None]
        gap = timedelta(seconds=SHELL_GAP_SECONDS)
        since = f"time >= {_ts(min(times) - gap)} AND " if times else ""
        firsts = " OR ".join(
            "(source_path = '{}' AND seq < {})".format(path.replace("'", "''"), int(seq))
            for path, seq, _ in files
        )
        return f"""
            SELECT arg_max(event_id, seq) FROM {self.table}
            WHERE {since}{_SHELL_LINE} AND ({firsts})
            GROUP BY source_path"""

    def open(self) -> None:
        # The window is copied once (a few thousand rows at most): every query below reads
        # it instead of filtering the whole table again.
        self.store.con.execute(
            f"CREATE OR REPLACE TEMP TABLE window_events AS {self._window_sql()}"
        )
        self.store.con.execute(_EVENTS_VIEW)

    def link(self) -> int:
        """Link the window's lines that have no link to an agent yet, and the lines a new
        agent event of the batch may be a better link for (a provider record linked to the
        refused CLI delete before the curl that did it arrived; a shell line whose command
        an agent ran within seconds of it), and the calls of Claude Code's MCP server log not
        yet tied to their transcript or hook call. A window without any (benign agent hook
        lines only) has nothing to link."""
        links, batch = self.links_table, self.batch
        shell_unlinked, provider_unlinked, candidates, providers, mcp_unlinked = self.has(
            [
                f"{_SHELL_LINE} AND {_UNLINKED.format(links=links)}",
                f"{_PROVIDER_RECORD} AND {_UNLINKED.format(links=links)}",
                f"{batch} AND {_PROVIDER_CANDIDATE}",
                _PROVIDER_RECORD,
                f"{MCP_LOG_CALL} AND {_UNLINKED.format(links=links)}",
            ]
        )
        shell = shell_unlinked or self._batch_repeats_a_line()
        provider = provider_unlinked or (candidates and providers)
        if not (shell or provider or mcp_unlinked):  # (link_events always runs the MCP link)
            return 0
        return link_events(self.store, shell=shell, provider=provider)

    def _batch_repeats_a_line(self) -> bool:
        """An agent call of the batch has the command of a sessionless shell line within the
        linking window (seconds) of it."""
        found = self.store.con.execute(
            f"""SELECT EXISTS (
                    SELECT 1 FROM (SELECT command, time FROM window_events WHERE {self.batch}
                                   AND {_AGENT} AND kind = 'process') a
                    JOIN (SELECT command, time FROM window_events WHERE {_SHELL_LINE}) s
                      ON a.command = s.command
                     AND abs(epoch(a.time) - epoch(s.time)) <= {SHELL_WINDOW_SECONDS})"""
        ).fetchall()
        return bool(found[0][0])

    def hold_unsettled(self) -> None:
        waiting = self.store.con.execute(
            f"SELECT max(ingested_at), count(*), min(ingested_at) FROM events "
            f"WHERE {self.unsettled}"
        ).fetchall()[0]
        if waiting[1]:
            until = waiting[0] + timedelta(seconds=self.window.settle_seconds)
            self.settling = Settling(until, waiting[2])
        self.store.con.execute(f"DELETE FROM window_events WHERE {self.unsettled}")

    def narrow_sessions(self) -> None:
        """Detectors read `links` through `event_sessions`: only the window's links matter,
        and the view's joins are computed once per run, not once per detector."""
        con = self.store.con
        con.execute(_LINKS_VIEW.format(links=self.links_table))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE window_sessions AS SELECT * FROM {self.sessions_view}"
        )
        if self.window.context != "all":
            # Only the sessions this run touched (a new event, or one linked to them just
            # now) can have a new finding: the others were judged when they last changed.
            con.execute(
                f"""DELETE FROM window_sessions WHERE session_key IS NOT NULL
                    AND session_key NOT IN (
                        SELECT session_key FROM window_sessions WHERE session_key IS NOT NULL
                        AND ({self.batch} OR event_id IN (
                            SELECT event_id FROM {self.links_table}
                            WHERE created_at >= {_ts(self.started)})))"""
            )
        con.execute(_SESSIONS_VIEW)
        self.size = int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])

    def in_scope(self, event_ids: Collection[str]) -> set[str]:
        if not event_ids:
            return set()
        rows = self.store.con.execute(
            "SELECT event_id FROM window_sessions WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(event_ids)],
        ).fetchall()
        return {r[0] for r in rows}

    def unshadow(self) -> None:
        for view in ("event_sessions", "links", "events"):
            self.store.con.execute(f"DROP VIEW IF EXISTS temp.{view}")

    def reshadow(self) -> None:
        self.store.con.execute(_EVENTS_VIEW)
        self.store.con.execute(_LINKS_VIEW.format(links=self.links_table))
        self.store.con.execute(_SESSIONS_VIEW)

    def close(self) -> None:
        self.unshadow()
        self.store.con.execute("DROP TABLE IF EXISTS temp.window_sessions")
        self.store.con.execute("DROP TABLE IF EXISTS temp.window_events")


def scope_for(store: Store, window: Window | None) -> Scope:
    return Scope(store) if window is None else WindowScope(store, window)
