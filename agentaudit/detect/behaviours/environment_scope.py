"""Environment scope: a destructive call on an environment other than the session's own.

The session's environment is inferred from what it worked with (see `_session.py`: the task's
words, the git branch, `.env.<env>` files read, `RAILWAY_ENVIRONMENT`, the AWS profile, the
cwd). A target's environment is the call's own `target_env`, or the environment any source
recorded for the same target (the provider's record of the volume names its environment), or
the `--profile` the call used. A destructive call (even a refused one) on another known
environment is critical, stamped at the call.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._session import destructive_sessions_rows, session_context
from agentaudit.enrich.environments import normalize_env_name
from agentaudit.store import Store


class EnvironmentScope(Detector):
    info = DetectorInfo(
        id="environment-scope",
        title="Destructive call on an environment other than the session's",
        severity="critical",
        kind="behaviour",
        description="The session works in one environment (task, branch, env files, "
        "RAILWAY_ENVIRONMENT, AWS profile, cwd); a destructive call targets another.",
    )
    anchor = "destructive"

    def query(self) -> str:
        return """
        SELECT target, arg_max(target_env, time) AS env, arg_max(env_evidence, time) AS why
        FROM events WHERE target IS NOT NULL AND target_env NOT IN ('unknown')
        GROUP BY target
        """

    def run(self, store: Store) -> list[dict[str, Any]]:
        known = {r["target"]: (r["env"], r["why"]) for r in store.rows(self.query())}
        findings = []
        # Only destructive calls whose target's environment anything names can be out of scope.
        where = (
            "(target_env <> 'unknown' OR target IN (SELECT target FROM events "
            "WHERE target IS NOT NULL AND target_env <> 'unknown') "
            "OR list_has_any(list_transform(env_clues, lambda c: split_part(c, '=', 1)), ['aws_profile']))"
        )
        for session, rows in destructive_sessions_rows(store, where).items():
            ctx = session_context(session, rows)
            session_env = ctx.env
            if not session_env:
                continue
            calls: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                if row.get("destructive") and row["kind"] in ("process", "api"):
                    calls.setdefault(row["call_key"], []).append(row)
            for call_key, call_rows in calls.items():
                env, why = _target_env(call_rows, known)
                if not env or env in ("unknown", session_env):
                    continue
                first = min(call_rows, key=lambda r: r["time"])
                findings.append(
                    self._finding(
                        {
                            "session_key": session,
                            "finding_key": call_key,
                            "event_ids": [r["event_id"] for r in call_rows],
                            "first_seen": first["time"],
                            "last_seen": max(r["time"] for r in call_rows),
                            "evidence": {
                                "session_env": session_env,
                                "session_env_evidence": ctx.env_evidence(),
                                "target": first.get("target"),
                                "target_env": env,
                                "target_env_evidence": why,
                                "operation": first.get("operation"),
                                "command": first.get("command"),
                                "refused": any(
                                    r["status"] in ("failure", "denied") for r in call_rows
                                ),
                            },
                        }
                    )
                )
        return findings

    def title(self, evidence: dict[str, Any]) -> str:
        return (
            f"{evidence.get('operation') or 'Destructive call'} on {evidence['target_env']} "
            f"from a {evidence['session_env']} session"
        )


def _target_env(
    rows: list[dict[str, Any]], known: dict[str, tuple[str, str]]
) -> tuple[str | None, str | None]:
    for row in rows:
        if row.get("target_env") not in (None, "unknown"):
            return row["target_env"], f"{row['source']} recorded it"
    for row in rows:
        if row.get("target") in known:
            env, why = known[row["target"]]
            return env, f"another record of {row['target']}: {why or env}"
    for row in rows:
        name = next(
            (c[12:] for c in row.get("env_clues") or [] if c.startswith("aws_profile=")), None
        )
        if name:
            env = normalize_env_name(name)
            if env != "unknown":
                return env, f"AWS profile {name}"
    return None, None
