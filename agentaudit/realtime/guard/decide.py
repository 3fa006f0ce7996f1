"""Allow, ask or deny one pending call: the command analysis, the session's context, the policy.

The context comes from the store: the environments the session has worked on, and where it
read each secret (by keyed fingerprint, never the secret). A destructive call that sends a
credential the session *found* in a file or a command's output is the PocketOS path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentaudit.enrich.commands import analyze_command
from agentaudit.enrich.environments import infer_env_from_text
from agentaudit.enrich.secrets import Redactor
from agentaudit.realtime.guard.call import PendingCall
from agentaudit.realtime.guard.flows import describe, flow_verdicts, may_flow
from agentaudit.realtime.guard.policy import Policy, stricter
from agentaudit.taxonomy import describe_category, severity_rank


@dataclass
class SessionContext:
    """What the store knows about the session before this call."""

    environments: dict[str, str] = field(default_factory=dict)  # env -> evidence
    revealed: dict[str, str] = field(default_factory=dict)  # secret fp -> where it was read
    target_envs: dict[str, str] = field(default_factory=dict)  # target -> env seen for it


@dataclass
class Decision:
    decision: str
    reason: str
    operation: str | None = None
    target: str | None = None
    environment: str = "unknown"
    categories: tuple[str, ...] = ()
    credential_fp: str | None = None
    redacted_command: str | None = None
    context_used: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


def session_context(con: Any, session_id: str | None, fp: str | None, target: str | None):
    """Look the session up in the store (a DuckDB connection); empty when there is none."""
    context = SessionContext()
    if session_id:
        for row in con.execute(
            """SELECT target_env, any_value(coalesce(env_evidence, target)) AS evidence
               FROM events WHERE session_id = ? AND target_env <> 'unknown' GROUP BY ALL""",
            [session_id],
        ).fetchall():
            context.environments[row[0]] = row[1] or "seen in this session"
    if session_id and fp:
        rows = con.execute(
            """SELECT kind, paths, command FROM events
               WHERE session_id = ? AND list_contains(secret_fps, ?)
                 AND credential_fp IS DISTINCT FROM ?
               ORDER BY time LIMIT 20""",
            [session_id, fp, fp],
        ).fetchall()
        files = [p for kind, read, _ in rows if kind == "file" for p in (read or [])]
        commands = [f"the output of `{c}`" for kind, _, c in rows if kind == "process" and c]
        places = list(dict.fromkeys(files + commands))[:2]
        if places:
            context.revealed[fp] = " and ".join(places)
    if target:
        rows = con.execute(
            """SELECT target_env FROM events WHERE target = ? AND target_env <> 'unknown'
               ORDER BY time DESC LIMIT 1""",
            [target],
        ).fetchall()
        if rows:
            context.target_envs[target] = rows[0][0]
    return context


def only_temp_deletes(found) -> bool:
    """Every destructive part of the line deletes files under a temporary directory."""
    categories = set(found.categories) - {"safety_bypass"}  # `--force` changes no target
    return found.destructive and found.scope == "temp" and categories <= {"fs_delete"}


def evaluate(
    call: PendingCall,
    policy: Policy,
    redactor: Redactor,
    context_lookup: Any = None,
    calls_lookup: Any = None,
) -> Decision:
    """The decision for one call. `context_lookup(session, fp, target)` returns a SessionContext;
    `calls_lookup(session)` the session's stored calls, for the session-level credential and
    download rules (`guard/flows.py`), which can only make the answer stricter."""
    decision = _evaluate_call(call, policy, redactor, context_lookup)
    if not call.command or calls_lookup is None or decision.error:
        return decision
    found = analyze_command(call.command, cwd=call.cwd)
    argvs = [list(a) for a in found.argvs]
    if not may_flow(argvs, call.command):
        return decision
    redaction = redactor.redact(call.command)
    pending = {
        "kind": "process", "command": redaction.text, "argvs": argvs, "cwd": call.cwd,
        "secret_fps": redaction.fingerprints or None, "credential_fp": decision.credential_fp,
        "status": "unknown", "url": found.url, "categories": list(found.categories),
        "destructive": found.destructive, "operation": found.operation, "paths": None,
    }  # fmt: skip
    verdicts = flow_verdicts(calls_lookup(call.session_id), pending)
    decision.context_used = True
    worst = max(verdicts, key=lambda v: severity_rank(v["severity"]), default=None)
    if worst is None or severity_rank(worst["severity"]) < severity_rank("high"):
        return decision
    answer = "deny" if worst["severity"] == "critical" else "ask"
    if stricter(decision.decision, answer) == decision.decision:
        return decision
    decision.decision = answer
    decision.reason = (
        f"agentaudit {answer}: {describe(worst)}. "
        f"(rule {worst['rule']}: {worst['severity']} -> {answer})"
    )
    return decision


def _evaluate_call(
    call: PendingCall,
    policy: Policy,
    redactor: Redactor,
    context_lookup: Any = None,
) -> Decision:
    """The decision from the command line itself and the session's environments and secrets."""
    if not call.command:
        return Decision("allow", f"agentaudit: {call.tool_name or 'this tool'} is not a shell call")
    redaction = redactor.redact(call.command)
    fp = redaction.credentials[0] if redaction.credentials else None
    # the redacted line, as enrichment analyses it: targets and reasons carry no secret
    found = analyze_command(redaction.text, cwd=call.cwd)
    decision = Decision(
        "allow",
        "",
        operation=found.operation,
        target=found.target,
        categories=tuple(found.categories),
        credential_fp=fp,
        redacted_command=redaction.text,
    )
    # high and above is asked or denied whatever its category: remote code, exfiltration, ...
    if not found.destructive and severity_rank(found.severity) < severity_rank("high"):
        decision.reason = (
            f"agentaudit: no destructive operation in `{found.operation or 'this command'}`"
        )
        return decision
    context = SessionContext()
    if context_lookup is not None:
        context = context_lookup(call.session_id, fp, found.target)
        decision.context_used = True
    project = policy.project_for(call.cwd)
    env, evidence = _environment(found, redaction.text, project, context)
    decision.environment = env
    what = _describe(found)
    if severity_rank(found.severity) < severity_rank(policy.min_severity):
        decision.reason = (
            f"agentaudit: {what}, rated {found.severity} by the command analysis "
            f"(below the policy's {policy.min_severity})"
        )
        return decision
    if found.unparsed:
        # The grammar rejected the line: what the token fallback guessed (a verb, a path) is
        # no statement of what it does, so the reason says so, and a human confirms it.
        from_project = bool(project and project.environment and evidence.startswith("project "))
        answer = stricter(policy.answer_for_destructive(env, project, from_project), "ask")
        decision.decision = answer
        then = (
            f"and it names environment {env} ({evidence}), where destructive calls are denied"
            if answer == "deny"
            else "so it needs a human's confirmation"
        )
        decision.reason = (
            f"agentaudit {answer}: the command could not be parsed, so what it would do is "
            f"not known (read word by word, `{found.operation}` may be destructive); {then}. "
            f"(policy: unparsed destructive-looking calls -> at least ask)"
        )
        return decision
    if only_temp_deletes(found):
        decision.decision = policy.temp_deletes
        decision.reason = f"agentaudit: {what} only under a temporary directory"
        return decision
    from_project = bool(project and project.environment and evidence.startswith("project "))
    answer = policy.answer_for_destructive(env, project, from_project)
    why = [f"{what} in environment {env} ({evidence})"]
    rule = f"policy: destructive calls in {env} -> {answer}"
    if project and project.destructive and from_project:
        rule = f"policy for project {project.path}: destructive calls -> {answer}"
    if fp and fp in context.revealed:
        answer = stricter(answer, policy.found_credential)
        why.append(
            f"it sends a credential this session read from {context.revealed[fp]} "
            f"(fingerprint {fp}), a key the agent found rather than was given"
        )
        rule = f"policy: destructive call with a found credential -> {policy.found_credential}"
    decision.decision = answer
    decision.reason = f"agentaudit {answer}: " + "; ".join(why) + f". ({rule})"
    return decision


def _environment(found, redacted: str, project, context: SessionContext) -> tuple[str, str]:
    for text in (found.target, redacted):
        guess = infer_env_from_text(text)
        if guess:
            return guess
    if found.target and found.target in context.target_envs:
        return context.target_envs[found.target], f"the store has seen {found.target} there"
    if project and project.environment:
        return project.environment, f"project {project.path} is {project.environment}"
    if "production" in context.environments:
        return (
            "production",
            f"the session worked on production: {context.environments['production']}",
        )
    return "unknown", "no environment named or known for the target"


def _describe(found) -> str:
    words = [describe_category(c) for c in found.categories]
    target = f" on {found.target}" if found.target else ""
    return f"`{found.operation}`{target} " + (" and ".join(words) or "is destructive")
