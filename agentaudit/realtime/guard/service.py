"""One guard evaluation end to end: parse, decide (fail safe), record. Used by the resident
helper and by the hook process itself when no helper answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.realtime.guard.call import PendingCall, parse_call
from agentaudit.realtime.guard.decide import Decision, SessionContext, evaluate, session_context
from agentaudit.realtime.guard.flows import session_calls
from agentaudit.realtime.guard.policy import Policy, load_policy
from agentaudit.realtime.guard.record import record_decision
from agentaudit.realtime.guard.respond import render

# A connection factory for the store (DuckDB), or None when the store cannot be read.
ConnectionFactory = Callable[[], Any]


class Guard:
    """Holds what is costly to build once (redactor, analysis caches, policy by mtime)."""

    def __init__(
        self,
        connect: ConnectionFactory | None = None,
        redactor: Redactor | None = None,
        log_path: Path | None = None,
        decided_by: str = "hook",
        close_connections: bool = False,
    ) -> None:
        self.connect = connect
        self.close_connections = close_connections
        self.redactor = redactor or redactor_for()
        self.log_path = log_path
        self.decided_by = decided_by

    def handle(self, agent: str, raw: bytes | str) -> tuple[str, Decision]:
        """The hook's stdout for this raw stdin, and the decision (recorded)."""
        started = time.perf_counter()
        policy = Policy()
        call = PendingCall(agent, None, None, None, None, None, None)
        opened: list[Any] = []
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise ValueError("hook input is not a JSON object")
            call = parse_call(agent, payload)
            policy = load_policy(call.cwd)
            decision = evaluate(
                call, policy, self.redactor, self._lookup(opened), self._calls(opened)
            )
        except Exception as exc:  # fail safe: any failure asks a human
            decision = Decision(
                policy.on_error,
                f"agentaudit could not analyse this call ({type(exc).__name__}: {exc}); "
                "asking rather than allowing",
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            if self.close_connections:
                for con in opened:
                    con.close()
        record_decision(
            call,
            decision,
            decided_by=self.decided_by,
            latency_ms=(time.perf_counter() - started) * 1000,
            path=self.log_path,
        )
        text = render(
            call.agent if call.agent else agent,
            decision.decision,
            decision.reason,
            explicit_allow=policy.explicit_allow,
            codex_ask=policy.codex_ask,
        )
        return text, decision

    def _lookup(self, opened: list[Any]):
        """Context lookup, connecting only when a call needs context (destructive ones)."""
        if self.connect is None:
            return None

        def lookup(session_id, fp, target):
            con = self.connect()
            if con is None:
                return SessionContext()
            opened.append(con)
            return session_context(con, session_id, fp, target)

        return lookup

    def _calls(self, opened: list[Any]):
        """The session's stored calls, connecting only when a call may finish a flow."""
        if self.connect is None:
            return None

        def lookup(session_id):
            con = self.connect()
            if con is None:
                return []
            opened.append(con)
            return session_calls(con, session_id)

        return lookup


def read_only_store_connection() -> Any:
    """The store, read-only, when no other process holds it (else no context: None)."""
    import duckdb

    from agentaudit import paths

    db = paths.default_db_path()
    if not db.exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None  # `watch` holds it; its helper would have answered with context
    con.execute("SET TimeZone = 'UTC'")
    return con
