"""What an instruction's scope allows: "don't touch anything outside this repo", "only staging".

An instruction that forbids changes *outside* the project does not forbid a call that stays
inside it (the project, temp files, the developer's local services: localhost databases, a
kind/minikube cluster, the local Docker daemon) or that acts on what the task itself names
("clear the pip cache"). One scoped to an environment ("only staging", "work on staging")
does not forbid a call on that environment. A read-only call (plan, status, get, list, diff)
never conflicts, whatever words it contains (`rollout status deploy/api` deploys nothing).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

OUTSIDE_PROJECT = re.compile(
    r"(?i)\boutside (of )?(this|the|my|our) (repo|repository|project|workspace|directory|"
    r"folder|codebase|checkout)"
)
ONLY_ENV = re.compile(
    r"(?i)\b(?:only|just) (?:on |in |to |touch |use )?(?:the )?(staging|stage|dev|development|"
    r"test|sandbox)\b|\bwork (?:on|in) (?:the )?(staging|stage|dev|development|test|sandbox)\b"
)
ENV_NAMES = {"stage": "staging", "dev": "development", "test": "development"}
INSIDE_SCOPES = {"project", "temp", "local", "unknown"}
OUTSIDE_ENVS = {"production", "staging"}
# Subcommands that only read (the first non-option words of a command after its program).
READ_ONLY = re.compile(
    r"^(plan|status|get|describe|list|ls|show|diff|logs|top|version|history|explain|view|"
    r"whoami|info|validate|fmt|lint|test|check|search|inspect|outputs?|graph|current-context|"
    r"get-contexts|config|auth|log)$"
)
# Programs that only read or filter (the right side of a pipe: `| tail -20`).
READ_PROGRAMS = {
    "cat",
    "echo",
    "tail",
    "head",
    "grep",
    "rg",
    "jq",
    "wc",
    "sort",
    "uniq",
    "less",
    "ls",
    "pwd",
    "du",
    "df",
    "which",
    "true",
}
_SEGMENTS = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")


def conflicts(evidence: dict[str, Any]) -> bool:
    """Whether a call the SQL paired with an instruction really goes against it."""
    if not evidence.get("destructive") and all(map(read_only, evidence.get("commands") or [])):
        return False
    said = " ".join(evidence.get("instructions") or [evidence.get("instruction") or ""])
    envs = set(evidence.get("target_envs") or [])
    wanted = _only_env(said)
    if wanted:
        return bool(envs) and envs != {wanted}
    if OUTSIDE_PROJECT.search(said):
        return _reaches_outside(evidence, envs, said)
    return True


def read_only(command: str) -> bool:
    """Every part of the command reads (`terraform plan`, `kubectl rollout status`)."""
    parts = [p for p in _SEGMENTS.split(command) if p.strip()]
    return bool(parts) and all(_reads(p) for p in parts)


def _reads(segment: str) -> bool:
    words = [w for w in segment.split() if not w.startswith("-") and "=" not in w]
    # program, then up to three subcommand words (`kubectl rollout status`, `gh pr view`)
    return bool(words) and (
        words[0].rsplit("/", 1)[-1] in READ_PROGRAMS or any(READ_ONLY.match(w) for w in words[1:4])
    )


def _only_env(said: str) -> str | None:
    match = ONLY_ENV.search(said)
    if not match:
        return None
    name = (match.group(1) or match.group(2)).lower()
    return ENV_NAMES.get(name, name)


def _reaches_outside(evidence: dict[str, Any], envs: set[str], said: str) -> bool:
    if envs & OUTSIDE_ENVS:
        return True
    outside = set(evidence.get("scopes") or ["unknown"]) - INSIDE_SCOPES
    if not outside:
        return False
    # a target the task names itself ("clear the pip cache") is what the user allowed
    named = [t for t in evidence.get("targets") or [] if _named_in(t, said)]
    return len(named) < len(evidence.get("targets") or [None])


def _named_in(target: str, said: str) -> bool:
    words = {w for w in re.split(r"[^\w.-]+", said.lower()) if len(w) >= 3}
    parts = [p.lstrip(".").lower() for p in PurePosixPath(target).parts if p not in ("/", "~")]
    return any(p in words for p in parts if len(p) >= 3)
