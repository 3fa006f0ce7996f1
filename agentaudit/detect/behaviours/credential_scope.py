"""Credential used out of scope: a credential the session read, then used against a cloud or
VCS API outside the session's project or environment.

The credential is followed by its fingerprint (the token read from a file or printed by a
command appears in the later call: a header, a URL, an environment assignment) or by its
tool (a read of `~/.aws/`, `~/.config/gh/`, `~/.kube/`... then that tool's CLI). The call is
out of scope when it names another environment than the session's (its target's, the AWS
profile's, Railway's; the session's from `_session.py`), or a repository that is not the
session's project (`github.com/<owner>/<repo>`, `gh --repo`, `gh api repos/...`), or when
the secret itself, read from a file outside the project, is pasted into the call. High. A
destructive call on another environment is left to `environment-scope` (critical).
Using the project's own credential in the session's own environment is ordinary work.
"""

from __future__ import annotations

import re
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._credentials import (
    CREDENTIAL_HINT,
    Call,
    Read,
    credential_read,
    host_of,
    is_service_host,
    session_calls,
)
from agentaudit.detect.behaviours._session import session_context, sessions_rows, words
from agentaudit.enrich.environments import normalize_env_name
from agentaudit.schema import FindingRow
from agentaudit.store import Store

# CLI -> where its credentials live and the token commands that print them
_TOOL_FILES = {
    "aws": ("/.aws/",), "gcloud": ("/.config/gcloud/",), "gsutil": ("/.config/gcloud/",),
    "az": ("/.azure/",), "kubectl": ("/.kube/",), "helm": ("/.kube/",),
    "gh": ("/.config/gh/", "/.git-credentials", "/.netrc"),
    "git": ("/.git-credentials", "/.netrc", "/.config/gh/"), "docker": ("/.docker/",),
    "railway": ("/.railway/",), "vercel": ("/vercel/",), "doctl": ("/doctl/",),
}  # fmt: skip
_CLOUD_CLIS = set(_TOOL_FILES) | {"terraform", "tofu", "pulumi", "flyctl", "fly", "heroku"}
_VCS_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")
# a repository's web or git address (not an API host's path: api.github.com/user/repos)
_REPO_URL = re.compile(
    r"(?<![\w.])(?:github\.com|gitlab\.com|bitbucket\.org)[/:]([\w.-]+)/([\w.-]+)"
)
_REPO_API = re.compile(r"\brepos/([\w.-]+)/([\w.-]+)")
# `gh auth status` prints who is logged in, not the token (unless asked to)
_NO_TOKEN = re.compile(r"^gh auth status(?!.*(\s-t\b|--show-token))")
_GH_WRITES = {"create", "delete", "edit", "merge", "close", "comment", "set", "upload",
              "transfer", "archive", "rename", "sync", "push", "review", "lock"}  # fmt: skip
_REPO_FLAG = re.compile(r"(?:-R|--repo)[= ]([\w.-]+)/([\w.-]+)")


class CredentialScope(Detector):
    info = DetectorInfo(
        id="credential-scope",
        title="A credential the session read was used outside its project or environment",
        severity="high",
        kind="behaviour",
        description="A credential read or printed in the session is used against a cloud or "
        "VCS API that names another environment than the session's, or another repository "
        "than the session's project.",
    )
    anchor = "kind IN ('process', 'api')"

    def query(self) -> str:
        return (
            "SELECT DISTINCT session_key FROM event_sessions "
            f"WHERE session_key IS NOT NULL AND kind IN ('file', 'process') AND {CREDENTIAL_HINT}"
        )

    def run(self, store: Store) -> list[FindingRow]:
        contexts = sessions_rows(store, self.query())
        findings = []
        for session, calls in session_calls(store, self.query()).items():
            ctx = session_context(session, contexts.get(session, []))
            for row in out_of_scope(session, calls, ctx):
                findings.append(self._finding(row))
        return findings

    def title(self, evidence: dict[str, Any]) -> str:
        where = evidence.get("repository") or evidence.get("call_env")
        on = f" on {where}" if where else ""
        return (
            f"Credential used outside the session's scope: {evidence.get('tool') or 'a call'}"
            f"{on} ({evidence.get('why')})"
        )


def out_of_scope(session: str, calls: list[Call], ctx: Any) -> list[dict[str, Any]]:
    reads: list[Read] = []
    copies: set[str] = set()
    projects = {r.rsplit("/", 1)[-1] for r in ctx.roots if r}
    out = []
    for call in calls:
        if reads and not call.denied:
            tool = _api_tool(call)
            used = _credential_reads(call, tool, reads) if tool else []
            if used:
                why = _outside(call, ctx.env, projects, used) or _foreign(call, used, ctx.roots)
                if why:
                    out.append(_row(session, call, tool, used, why, ctx.env))
        read = credential_read(call, copies)
        if read is not None:
            reads.append(read)
            copies |= read.copies
    return out


def _api_tool(call: Call) -> str | None:
    """The cloud or VCS tool or API a call uses, or None."""
    for argv in call.argvs:
        program = argv[0] if argv else ""
        if program in _CLOUD_CLIS:
            return program
        if program in ("curl", "wget", "http", "xh"):
            host = next((host_of(a) for a in argv[1:] if "://" in a), "")
            if is_service_host(host):
                return host
    url = call.value("url")
    if call.first["kind"] == "api" and url and is_service_host(host_of(url)):
        return host_of(url)
    return None


def _credential_reads(call: Call, tool: str, reads: list[Read]) -> list[Read]:
    """The session's reads whose credential this call carries (its secret, or its tool's)."""
    carried = call.fingerprints()
    places = _TOOL_FILES.get(tool, ())
    return [
        r
        for r in reads
        if r.fingerprints & carried
        or any(p in "/" + f.lstrip("~") for f in r.files for p in places)
        or any(s.split(" ", 1)[0] == tool and not _NO_TOKEN.search(s) for s in r.sources)
    ]


def _outside(
    call: Call, session_env: str | None, projects: set[str], used: list[Read]
) -> str | None:
    env = _call_env(call)
    destructive = any(r.get("destructive") for r in call.rows)
    # a destructive call on another environment is environment-scope's (critical)
    if env and session_env and env != session_env and not destructive:
        return f"{env}, the session works in {session_env}"
    repo = _repository(call)
    # reading another repository (an upstream's issues) is ordinary; writing to it, or
    # carrying the secret itself there, is not
    carried = bool(call.fingerprints() & {fp for r in used for fp in r.fingerprints})
    if repo and projects and not _same_project(repo[1], projects) and (carried or _writes(call)):
        return f"repository {'/'.join(repo)}, the session works in {', '.join(sorted(projects))}"
    return None


def _foreign(call: Call, used: list[Read], roots: set[str]) -> str | None:
    """The secret itself, read from a file outside the project, pasted into the call."""
    carried = call.fingerprints()
    for read in used:
        if not read.fingerprints & carried:
            continue
        outside = [f for f in read.files if f.startswith(("/", "~")) and not _inside(f, roots)]
        if outside:
            return f"a secret read from {outside[0]}, outside the project"
    return None


def _inside(path: str, roots: set[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def _writes(call: Call) -> bool:
    """A call that changes a repository: a push, or a gh command or API call that writes."""
    for argv in call.argvs:
        words = [a for a in argv[1:] if not a.startswith("-")]
        if argv[:1] == ["git"] and words[:1] == ["push"]:
            return True
        if argv[:1] == ["gh"]:
            if words[:1] == ["api"]:
                method = next(
                    (argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-X", "--method")), ""
                )
                if method.upper() in ("POST", "PUT", "PATCH", "DELETE") or any(
                    a in ("-f", "-F", "--field", "--raw-field", "--input") for a in argv
                ):
                    return True
            elif len(words) > 1 and words[1] in _GH_WRITES:
                return True
    return False


def _call_env(call: Call) -> str | None:
    for row in call.rows:
        if row.get("target_env") not in (None, "unknown"):
            return row["target_env"]
        for clue in row.get("env_clues") or []:
            kind, _, name = clue.partition("=")
            if kind in ("aws_profile", "railway"):
                env = normalize_env_name(name)
                if env != "unknown":
                    return env
    return None


def _repository(call: Call) -> tuple[str, str] | None:
    text = " ".join(" ".join(a) for a in call.argvs) or call.command
    url = call.value("url") or ""
    for pattern in (_REPO_URL, _REPO_API, _REPO_FLAG):
        match = pattern.search(text) or pattern.search(url)
        if match:
            return match.group(1), re.sub(r"\.git$", "", match.group(2))
    return None


def _same_project(repo: str, projects: set[str]) -> bool:
    names = {p.lower() for p in projects}
    return repo.lower() in names or bool(words(repo) & {w for p in projects for w in words(p)})


def _row(
    session: str, call: Call, tool: str | None, used: list[Read], why: str, env: str | None
) -> dict[str, Any]:
    repo = _repository(call)
    return {
        "session_key": session,
        "finding_key": call.key,
        "event_ids": [e for r in used for e in r.call.event_ids] + call.event_ids,
        "first_seen": used[0].call.time,
        "last_seen": call.time,
        "evidence": {
            "tool": tool,
            "why": why,
            "call_env": _call_env(call),
            "session_env": env,
            "repository": "/".join(repo) if repo else None,
            "vcs": any(h in (tool or "") for h in _VCS_HOSTS) or tool in ("gh", "git"),
            "read_from": [f for r in used for f in r.files],
            "read_by": [s for r in used for s in r.sources][:5],
            "used_by": call.command[:300] or call.value("url"),
            "first_read_at": used[0].call.time,
            "used_at": call.time,
        },
    }
