"""Guard policy: what to answer for a destructive call, per environment and per project.

Two files, both optional, both YAML:
- the user's policy, `$AGENTAUDIT_HOME/guard.yaml` (or `AGENTAUDIT_GUARD_POLICY`);
- a project's policy, `.agentaudit/guard.yaml` in the call's working directory or a parent.

A project file can only make answers stricter (allow < ask < deny): the agent can write files
in its project, so a project file must never be a way to loosen the user's policy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from agentaudit import paths
from agentaudit.taxonomy import severity_rank

DECISIONS = ("allow", "ask", "deny")
POLICY_ENV = "AGENTAUDIT_GUARD_POLICY"
PROJECT_FILE = Path(".agentaudit") / "guard.yaml"


def stricter(a: str, b: str) -> str:
    return a if DECISIONS.index(a) >= DECISIONS.index(b) else b


@dataclass(frozen=True)
class ProjectRule:
    """Calls whose working directory is under `path` target `environment` unless they say."""

    path: str
    environment: str | None = None
    destructive: str | None = None  # this project's answer for its destructive calls
    may_loosen: bool = True  # False for rules from a project's own file: only stricter


@dataclass(frozen=True)
class Policy:
    destructive: dict[str, str] = field(
        default_factory=lambda: {
            "production": "deny",
            "staging": "ask",
            "development": "ask",
            "unknown": "ask",
        }
    )
    # A destructive call using a credential the session read from a file or a command's
    # output (the PocketOS path): the agent found a key it was not given.
    found_credential: str = "deny"
    temp_deletes: str = "allow"
    # Destructive calls the command analysis rates below this (a single file removed in the
    # project) are allowed: asking about each would train people to click yes.
    min_severity: str = "medium"
    on_error: str = "ask"
    timeout_seconds: float = 2.0
    projects: tuple[ProjectRule, ...] = ()
    # Claude Code and Codex skip their own permission prompt on an explicit "allow": by
    # default guard stays silent on allow so the agent's own rules still apply.
    explicit_allow: bool = False
    # Codex hooks cannot ask a human: "ask" becomes deny (with the reason) unless set to "pass".
    codex_ask: str = "deny"
    sources: tuple[str, ...] = ()

    def project_for(self, cwd: str | None) -> ProjectRule | None:
        if not cwd:
            return None
        matches = [
            p for p in self.projects if cwd == p.path or cwd.startswith(p.path.rstrip("/") + "/")
        ]
        return max(matches, key=lambda p: len(p.path), default=None)

    def answer_for_destructive(
        self, env: str, project: ProjectRule | None, env_from_project: bool = False
    ) -> str:
        answer = self.destructive.get(env, self.destructive.get("unknown", "ask"))
        if project is None:
            return answer
        if not project.may_loosen:
            # A project's own file may name its environment, never to get a looser answer.
            answer = stricter(answer, self.destructive.get("unknown", "ask"))
        if project.destructive:
            replaces = project.may_loosen and env_from_project
            answer = project.destructive if replaces else stricter(answer, project.destructive)
        return answer


def _project_rules(
    items: list[dict[str, Any]] | None, base: Path | None
) -> tuple[ProjectRule, ...]:
    rules = []
    for item in items or []:
        path = Path(os.path.expanduser(str(item["path"])))
        if base is not None and not path.is_absolute():
            path = base / path
        rules.append(
            ProjectRule(str(path), item.get("environment"), _decision(item.get("destructive")))
        )
    return tuple(rules)


def _decision(value: Any) -> str | None:
    if value is None:
        return None
    if value not in DECISIONS:
        raise ValueError(f"policy decision must be one of {DECISIONS}, not {value!r}")
    return str(value)


def policy_from_dict(data: dict[str, Any], base: Path | None = None) -> Policy:
    policy = Policy()
    destructive = dict(policy.destructive)
    for env, answer in (data.get("destructive") or {}).items():
        destructive[env] = _decision(answer) or destructive.get(env, "ask")
    return replace(
        policy,
        destructive=destructive,
        found_credential=_decision(data.get("found_credential")) or policy.found_credential,
        temp_deletes=_decision(data.get("temp_deletes")) or policy.temp_deletes,
        min_severity=str(data.get("min_severity", policy.min_severity)),
        on_error=_decision(data.get("on_error")) or policy.on_error,
        timeout_seconds=float(data.get("timeout_seconds", policy.timeout_seconds)),
        projects=_project_rules(data.get("projects"), base),
        explicit_allow=bool(data.get("explicit_allow", False)),
        codex_ask=str(data.get("codex_ask", policy.codex_ask)),
    )


def tighten(user: Policy, project: Policy) -> Policy:
    """The user's policy with a project's answers merged in, never looser than the user's."""
    destructive = {
        env: stricter(user.destructive.get(env, "ask"), project.destructive.get(env, "ask"))
        for env in {*user.destructive, *project.destructive}
    }
    return replace(
        user,
        destructive=destructive,
        found_credential=stricter(user.found_credential, project.found_credential),
        temp_deletes=stricter(user.temp_deletes, project.temp_deletes),
        min_severity=min((user.min_severity, project.min_severity), key=severity_rank),
        projects=(*user.projects, *(_no_looser(rule, user) for rule in project.projects)),
        sources=(*user.sources, *project.sources),
    )


def _no_looser(rule: ProjectRule, user: Policy) -> ProjectRule:
    return replace(rule, may_loosen=False)


def user_policy_path() -> Path:
    override = os.environ.get(POLICY_ENV)
    return Path(override) if override else paths.home() / "guard.yaml"


def find_project_file(cwd: str | None) -> Path | None:
    if not cwd:
        return None
    here = Path(cwd)
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a guard policy is a YAML mapping")
    return data


def load_policy(cwd: str | None = None) -> Policy:
    """The user's policy, tightened by the project's (raises on an unreadable file)."""
    user_path = user_policy_path()
    policy = Policy()
    if user_path.is_file():
        policy = replace(policy_from_dict(_read(user_path)), sources=(str(user_path),))
    project_path = find_project_file(cwd)
    if project_path is not None:
        project = policy_from_dict(_read(project_path), base=project_path.parent.parent)
        policy = tighten(policy, replace(project, sources=(str(project_path),)))
    return policy
