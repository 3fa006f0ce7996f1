"""A session's credential reads and network egress, call by call, from the stored columns.

Shared by the credential-flow detectors (exfiltration, use outside the session's scope). One
call is all the rows that share its `call_key` (a hook's Pre and Post rows, a transcript's
call and result). Commands are not parsed again: each simple command's argv is the `argvs`
column, read with the command analyser's own facts (`enrich/commands/flows.py`).
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from agentaudit.detect.behaviours._session import SESSION_COLUMNS
from agentaudit.enrich.commands.flows import (
    archive_output,
    credential_source,
    network_sink,
    sent_files,
)
from agentaudit.enrich.commands.programs.hygiene import is_secret_path
from agentaudit.store import Store

COLUMNS = f"{SESSION_COLUMNS}, argvs, url, provider, tool_name, seq"
# One event that may start a credential flow (SQL over `event_sessions`); Python decides.
CREDENTIAL_HINT = r"""(list_contains(categories, 'credential_access') OR len(secret_fps) > 0
    OR regexp_matches(coalesce(command, '') || ' ' || array_to_string(coalesce(paths, []), ' '),
        '(\.(ssh|aws|kube|docker|azure|gnupg|netrc|npmrc|pypirc|git-credentials)\b|gcloud|'
        || 'credential|secret|token|\.env\b|\bprintenv\b|\benv\b|\.pem\b|\.key\b|id_(rsa|ed25519|ecdsa))'))"""
# Output redirections of a stored command (`> /tmp/c`, `>> out`), not `2>` or `&>` to a null.
_REDIRECT = re.compile(r"(?<![\d&<>])>>?\|?\s*([^\s;&|<>()]+)")
_HOME = re.compile(r"^(/home/[^/]+|/Users/[^/]+|/root)(?=/|$)")
# `export KEY=$(...)`, `TOKEN=\`...\``: a variable that holds what a credential command printed
_ASSIGNED = re.compile(
    r"(?:^|[\s;&|(])(?:export\s+|local\s+|declare\s+)?([A-Za-z_]\w*)=[\"']?(?:\$\(|`)"
)
RAW_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$|^\[?[0-9a-f:]+:[0-9a-f:]*\]?$", re.I)
_LOOPBACK = re.compile(r"^(localhost|127\.|\[?::1\]?$|0\.0\.0\.0)")
# Hosts of the services a credential is meant for: a credential sent there as the call's own
# credential is its use (weighed by the scope detector), not its theft.
SERVICE_HOSTS = (
    "github.com", "githubusercontent.com", "ghcr.io", "gitlab.com", "bitbucket.org",
    "amazonaws.com", "googleapis.com", "google.com", "azure.com", "windows.net", "azure.net",
    "microsoft.com", "railway.app", "vercel.com", "supabase.co", "supabase.com", "heroku.com",
    "fly.io", "netlify.com", "cloudflare.com", "digitalocean.com", "stripe.com", "openai.com",
    "anthropic.com", "slack.com", "npmjs.org", "pypi.org", "docker.io", "docker.com",
    "render.com", "sentry.io", "datadoghq.com", "pagerduty.com", "atlassian.net",
)  # fmt: skip


@dataclass
class Call:
    """One call of a session: its rows merged."""

    key: str
    rows: list[dict[str, Any]]
    time: Any
    index: int  # order in the session

    @property
    def first(self) -> dict[str, Any]:
        return self.rows[0]

    @property
    def event_ids(self) -> list[str]:
        return [r["event_id"] for r in self.rows if r.get("event_id")]

    @property
    def argvs(self) -> list[list[str]]:
        return next((list(r["argvs"]) for r in self.rows if r.get("argvs")), [])

    @property
    def command(self) -> str:
        return next((r["command"] for r in self.rows if r.get("command")), "")

    @property
    def denied(self) -> bool:
        return any(r.get("status") == "denied" for r in self.rows)

    def value(self, column: str) -> Any:
        return next((r[column] for r in self.rows if r.get(column)), None)

    def fingerprints(self) -> set[str]:
        return {fp for r in self.rows for fp in r.get("secret_fps") or []}

    def credential(self) -> str | None:
        return self.value("credential_fp")


@dataclass
class Read:
    """A call that read or printed a credential, and where it put a copy."""

    call: Call
    fingerprints: set[str] = field(default_factory=set)  # secrets its output or file showed
    files: list[str] = field(default_factory=list)  # credential files or directories read
    sources: list[str] = field(default_factory=list)  # commands that printed a credential
    copies: set[str] = field(default_factory=set)  # files it wrote them to (archive, cp, >)
    variables: set[str] = field(default_factory=set)  # shell variables it assigned them to


def session_calls(
    store: Store,
    sessions_sql: str,
    columns: str = COLUMNS,
    kinds: tuple[str, ...] = ("process", "file", "api"),
) -> dict[str, list[Call]]:
    """Per session of `sessions_sql` (one `session_key` column): its calls, in time order.
    A detector that reads fewer columns or kinds names them (rows cost per column read)."""
    kind_list = ", ".join(f"'{kind}'" for kind in kinds)
    rows = store.rows(
        f"""SELECT {columns} FROM event_sessions
            WHERE session_key IN ({sessions_sql}) AND kind IN ({kind_list})
            ORDER BY session_key, time, seq"""
    )
    return group_calls(rows)


def group_calls(rows: list[dict[str, Any]]) -> dict[str, list[Call]]:
    """Rows (time-ordered, with `session_key` and `call_key`) as each session's calls."""
    sessions: dict[str, dict[str, Call]] = {}
    for row in rows:
        calls = sessions.setdefault(row["session_key"], {})
        key = row["call_key"] or row["event_id"]
        if key in calls:
            calls[key].rows.append(row)
        else:
            calls[key] = Call(key, [row], row["time"], len(calls))
    return {s: list(calls.values()) for s, calls in sessions.items()}


def credential_read(call: Call, staged: set[str]) -> Read | None:
    """What `call` read of credentials (files already holding a copy: `staged`), or None."""
    read = Read(call)
    for row in call.rows:
        if row["kind"] in ("file", "process"):
            read.fingerprints |= set(row.get("secret_fps") or []) - {row.get("credential_fp")}
        if row["kind"] == "file":
            read.files += [p for p in row.get("paths") or [] if is_secret_path(p)]
    # the analyser's verdict covers readers this module does not list (grep, rg, strings...)
    analysed = any("credential_access" in (r.get("categories") or []) for r in call.rows)
    printed = False
    for argv in call.argvs:
        if argv[:2] == ["git", "add"]:  # a credential file staged for a commit: a copy to push
            read.copies |= {norm_path(a) for a in argv[2:] if is_secret_path(a)}
        inputs = [a for a in argv[1:] if not a.startswith("-")]
        copied_from_stage = [a for a in inputs if norm_path(a) in staged]
        secret_inputs = [a for a in inputs if is_secret_path(a) or is_secret_path(a + "/")]
        if credential_source(argv) is not None or copied_from_stage or (analysed and secret_inputs):
            printed = True
            read.sources.append(" ".join(argv)[:200])
            read.files += secret_inputs
            output = archive_output(argv)
            if output:
                read.copies.add(norm_path(output))
    if printed or (analysed and call.first["kind"] == "process"):
        read.copies |= {norm_path(t) for t in _REDIRECT.findall(call.command) if t != "/dev/null"}
        read.variables |= set(_ASSIGNED.findall(call.command))
    if analysed and not (read.fingerprints or read.files or printed):
        read.sources.append(call.command[:200] or (call.first.get("operation") or ""))
    if not (read.fingerprints or read.files or read.sources or read.copies):
        return None
    read.files = list(dict.fromkeys(read.files))
    return read


@dataclass
class Egress:
    """Data a call sent off the machine: how, where, and what of the session's secrets."""

    call: Call
    how: str
    host: str
    fingerprints: set[str]  # session secrets in the call's text
    files: list[str]  # credential files or their copies it sent
    as_credential: bool  # the secret is the call's own credential (an auth header)


def egress(
    call: Call,
    secrets: set[str],
    copies: set[str],
    committed: AbstractSet[str] = frozenset(),
    variables: AbstractSet[str] = frozenset(),
) -> list[Egress]:
    """Each network sink of `call` that carries a secret of `secrets`, a file of `copies`
    (credential files read earlier, their copies) or a shell variable of `variables` (a
    `git push`: the copies in the repository, `committed`)."""
    out = []
    carried = call.fingerprints() & secrets
    command = call.command
    held = sorted(v for v in variables if re.search(rf"\$\{{?{v}\b", command))
    credential = call.credential()
    sinks = [s for argv in call.argvs if (s := _sink(argv))]
    if not sinks and call.first["kind"] == "api":
        # a web or MCP call: what it sent is in its request (not the result it got back)
        carried = _request_fingerprints(call) & secrets
        url = call.value("url")
        where = host_of(url) if url else (call.value("operation") or call.value("tool_name"))
        sinks = [("web request" if url else "tool call", where or "", [])]
    for how, host, files in sinks:
        if _LOOPBACK.match(host or ""):
            continue
        sent = [f for f in files if norm_path(f) in copies] + [f"${v}" for v in held]
        if how == "git push":  # it sends commits; a token in its URL is its own auth
            sent = sorted(committed)
            if sent:
                out.append(Egress(call, how, host, set(), sent, False))
            continue
        if carried or sent:
            only_auth = bool(carried) and carried == {credential} and not sent
            out.append(Egress(call, how, host, carried, sent, only_auth))
    return out


def _request_fingerprints(call: Call) -> set[str]:
    """Secrets in an API call's request: its URL, or the rows recorded before it returned."""
    found = set()
    for row in call.rows:
        if row.get("status") == "unknown" or "[SECRET:" in (row.get("url") or ""):
            found |= set(row.get("secret_fps") or [])
    return found


def _sink(argv: list[str]) -> tuple[str, str, list[str]] | None:
    found = network_sink(argv)
    if found:
        return found[0], found[1], sent_files(argv)
    if argv[:1] == ["git"] and "push" in argv:
        words = [a for a in argv[argv.index("push") + 1 :] if not a.startswith("-")]
        remote = words[0] if words else "origin"
        url = "://" in remote or re.match(r"^[\w.-]+@[\w.-]+:", remote)
        return "git push", host_of(remote) if url else remote, []
    upload = _storage_upload(argv)
    if upload:
        return upload
    return None


def _storage_upload(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """`aws s3 cp f s3://b/`, `gsutil cp f gs://b`, `gcloud storage cp`, `rclone copy f r:`."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    program = argv[0] if argv else ""
    if (program, words[:1]) in (("aws", ["s3"]), ("gcloud", ["storage"])):
        words = words[1:]
    elif program not in ("gsutil", "rclone", "azcopy"):
        return None
    if not words or words[0] not in ("cp", "mv", "sync", "copy", "copyto", "move"):
        return None
    paths = words[1:]
    remote = next((p for p in paths if re.match(r"^(s3|gs|az|https?)://|^[\w-]+:", p)), None)
    if remote is None:
        return None
    local = [p for p in paths if p is not remote]
    return "storage upload", host_of(remote) or remote.split(":", 1)[0], local


def host_of(url: str | None) -> str:
    if not url:
        return ""
    if "://" not in url and re.match(r"^[\w.-]+@[\w.-]+:", url):
        return url.split("@", 1)[1].split(":", 1)[0].lower()
    try:
        return (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    except ValueError:
        return ""


def is_service_host(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in SERVICE_HOSTS)


def hosts_of(call: Call) -> set[str]:
    """Hosts a call talked to (its URL, its network sinks)."""
    hosts = {host_of(call.value("url"))} if call.value("url") else set()
    hosts |= {s[1] for argv in call.argvs if (s := network_sink(argv))}
    return {h for h in hosts if h}


def norm_path(path: str) -> str:
    """One spelling of a path: no trailing slash, a home directory as `~`."""
    return _HOME.sub("~", path.rstrip("/") or path)
