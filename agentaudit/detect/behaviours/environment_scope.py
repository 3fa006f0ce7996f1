"""Environment scope: a destructive call on an environment other than the session's own.

The session's environment is inferred from what it worked with (see `_session.py`: the task's
words, the git branch, `.env.<env>` files read, `RAILWAY_ENVIRONMENT`, the AWS profile, the
cwd). A target's environment is the call's own `target_env`, or the environment any source
recorded for the same target (the provider's record of the volume names its environment), or
the `--profile` the call used. A destructive call (even a refused one) on another known
environment is critical, stamped at the call.
"""

from __future__ import annotations

import re
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._session import destructive_sessions_rows, session_context
from agentaudit.enrich.environments import infer_env_from_text, normalize_env_name
from agentaudit.schema import FindingRow, latest, time_key
from agentaudit.store import Store

_KUBE_CLI = re.compile(r"(?:^|[\s;&|(/])(?:kubectl|helm)\s")
_CONTEXT_FLAG = re.compile(r"--(?:kube-)?context[= ]['\"]?([\w:./@-]+)")
_USE_CONTEXT = re.compile(r"kubectl\s+config\s+use-context\s+['\"]?([\w:./@-]+)")
# the first line `kubectl config current-context` printed (in the call's raw output)
_PRINTED_CONTEXT = re.compile(r"(?:content|output|stdout)\"\s*:\s*\"([\w:./@-]+?)(?:\\n|\")")


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

    def run(self, store: Store) -> list[FindingRow]:
        known = {r["target"]: (r["env"], r["why"]) for r in store.rows(self.query())}
        findings = []
        # Only destructive calls whose target's environment anything names can be out of scope.
        where = (
            "(target_env <> 'unknown' OR target IN (SELECT target FROM events "
            "WHERE target IS NOT NULL AND target_env <> 'unknown') "
            "OR list_has_any(list_transform(env_clues, lambda c: split_part(c, '=', 1)), "
            "['aws_profile']) "
            "OR regexp_matches(coalesce(command, ''), "
            "'--context|--kube-context|(^|[\\s;&|])(kubectl|helm)\\s'))"
        )
        for session, rows in destructive_sessions_rows(store, where).items():
            ctx = session_context(session, rows)
            session_env = ctx.env
            if not session_env:
                continue
            calls: dict[str, list[dict[str, Any]]] = {}
            context: dict[str, str | None] = {}  # call -> kube context current before it
            current = None
            for row in rows:
                current = _kube_context(row) or current
                if row.get("destructive") and row["kind"] in ("process", "api"):
                    calls.setdefault(row["call_key"], []).append(row)
                    context.setdefault(row["call_key"], current)
            for call_key, call_rows in calls.items():
                env, why = _target_env(call_rows, known, context.get(call_key))
                if not env or env in ("unknown", session_env):
                    continue
                first = min(call_rows, key=lambda r: time_key(r["time"]))
                findings.append(
                    self._finding(
                        {
                            "session_key": session,
                            "finding_key": call_key,
                            "event_ids": [r["event_id"] for r in call_rows],
                            "first_seen": first["time"],
                            "last_seen": latest(r["time"] for r in call_rows),
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


def _kube_context(row: dict[str, Any]) -> str | None:
    """The kube context a call made (`use-context X`) or printed as current (its output)."""
    command = row.get("command") or ""
    used = _USE_CONTEXT.search(command)
    if used:
        return used.group(1)
    if "config current-context" in command and row.get("raw"):
        printed = _PRINTED_CONTEXT.search(row["raw"])
        return printed.group(1) if printed else None
    return None


def _context_env(command: str, current: str | None) -> tuple[str | None, str | None]:
    """A kubectl/helm call's cluster: its --context/--kube-context, else the current one."""
    if not _KUBE_CLI.search(command):
        return None, None
    explicit = _CONTEXT_FLAG.search(command)
    name = explicit.group(1) if explicit else current
    if not name:
        return None, None
    found = infer_env_from_text(name.rsplit("/", 1)[-1])
    how = "its --context" if explicit else "the session's current kube context"
    return (found[0], f"{how} {name}") if found else (None, None)


def _target_env(
    rows: list[dict[str, Any]], known: dict[str, tuple[str, str]], context: str | None = None
) -> tuple[str | None, str | None]:
    for row in rows:
        if row.get("target_env") not in (None, "unknown"):
            return row["target_env"], f"{row['source']} recorded it"
    for row in rows:
        if row.get("target") in known:
            env, why = known[row["target"]]
            return env, f"another record of {row['target']}: {why or env}"
    for row in rows:
        from_context, said = _context_env(row.get("command") or "", context)
        if from_context and from_context != "unknown":
            return from_context, said
    for row in rows:
        name = next(
            (c[12:] for c in row.get("env_clues") or [] if c.startswith("aws_profile=")), None
        )
        named = normalize_env_name(name) if name else None
        if named not in (None, "unknown"):
            return named, f"AWS profile {name}"
    return None, None
