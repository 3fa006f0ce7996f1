"""Credential exfiltration across a session: a credential read, then sent off the machine.

A call reads or prints a credential (a key or credential file, `.env`, a secret manager, a
token-printing CLI, the environment, an archive or copy of a credential directory); a later
call sends it: the same secret (its fingerprint) in a network call's text, the file or its
copy uploaded (`curl -F f=@/tmp/k.tgz`, `scp -r /tmp/k host:`), or a copy placed in the
repository and pushed. Severity: high; critical when the destination is new for the session
(no earlier call talked to it) or a raw IP. A secret sent as the call's own credential to a
known service (a token in the Authorization header of its API), or a secret of the project's
own files sent as the credential of a call (its `.env` token to its own API), is its use, weighed by
`credential-scope` and `credential-provenance`, not exfiltration. Within one command line the
command analyser already classes it (`credential_exfil`); this detector needs two calls.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._credentials import (
    CREDENTIAL_HINT,
    RAW_IP,
    Call,
    Egress,
    Read,
    credential_read,
    egress,
    host_of,
    hosts_of,
    is_service_host,
    norm_path,
    session_calls,
)
from agentaudit.schema import FindingRow
from agentaudit.store import Store

_WRITES = ("write", "edit", "create", "multiedit", "patch")


class CredentialExfil(Detector):
    info = DetectorInfo(
        id="credential-exfil",
        title="A credential the session read was sent off the machine",
        severity="high",
        kind="behaviour",
        description="A credential read or printed by one call (file, environment, secret "
        "manager, token CLI, archive of a credential directory) is sent to the network by a "
        "later call; critical when the destination is new for the session or a raw IP.",
    )
    # the sending call: a command or a web/MCP call
    anchor = "kind IN ('process', 'api')"

    def query(self) -> str:
        return (
            "SELECT DISTINCT session_key FROM event_sessions "
            f"WHERE session_key IS NOT NULL AND kind IN ('file', 'process') AND {CREDENTIAL_HINT}"
        )

    def run(self, store: Store) -> list[FindingRow]:
        findings = []
        for session, calls in session_calls(store, self.query()).items():
            for row in exfiltrations(session, calls):
                findings.append(self._finding(row))
        return findings

    def title(self, evidence: dict[str, Any]) -> str:
        what = (evidence.get("files") or evidence.get("read_from") or ["a credential"])[0]
        where = evidence.get("destination") or "the network"
        return f"Credential exfiltration: {what} sent to {where} ({evidence.get('how')})"


def exfiltrations(session: str, calls: list) -> list[dict[str, Any]]:
    """Finding rows for the session's calls that send a credential an earlier call read."""
    reads: list[Read] = []
    secrets: set[str] = set()
    copies: set[str] = set()  # copies of credentials: archives, cp, redirects, git add, writes
    read_files: set[str] = set()  # credential files read
    variables: set[str] = set()
    seen_hosts: set[str] = set()
    remotes: dict[str, str] = {}  # git remotes added in the session -> their host
    roots = {c.value("cwd").rstrip("/") for c in calls if c.value("cwd")}
    out = []
    for call in calls:
        if reads and not call.denied:
            committed = {c for c in copies if _in_project(c, roots)}
            for sent in egress(call, secrets, copies | read_files, committed, variables):
                sent.host = (
                    remotes.get(sent.host, sent.host) if sent.how == "git push" else sent.host
                )
                if sent.as_credential and (
                    is_service_host(sent.host) or _projects_own(sent, reads, roots)
                ):
                    continue  # a credential used as such: credential-scope weighs it
                out.append(_row(session, sent, reads, seen_hosts))
        read = credential_read(call, copies)
        if read is not None:
            written = _written_secrets(call, secrets)
            if written:
                copies |= written
            else:
                reads.append(read)
                secrets |= read.fingerprints
                copies |= read.copies
                read_files |= {norm_path(f) for f in read.files}
                variables |= read.variables
        seen_hosts |= hosts_of(call)
        for argv in call.argvs:
            if argv[:3] == ["git", "remote", "add"] and len(argv) > 4:
                remotes[argv[3]] = host_of(argv[4])
    return _one_per_call(out)


def _projects_own(sent: Egress, reads: list[Read], roots: set[str]) -> bool:
    """The secret came only from the project's own files (its `.env` for its own API)."""
    sources = [r for r in reads if r.fingerprints & sent.fingerprints]
    return bool(sources) and all(
        r.files and all(_in_project(f, roots) for f in r.files) for r in sources
    )


def _written_secrets(call: Call, secrets: set[str]) -> set[str]:
    """Files a file tool wrote a secret of the session into (a copy, not a new read)."""
    first = call.first
    operation = (first.get("operation") or "").lower()
    if first["kind"] != "file" or not any(w in operation for w in _WRITES):
        return set()
    if not call.fingerprints() & secrets:
        return set()
    return set(first.get("paths") or [])


def _in_project(path: str, roots: set[str]) -> bool:
    if not path.startswith(("/", "~")):
        return True  # relative to the session's cwd
    path = norm_path(path)
    return any(path == r or path.startswith(r + "/") for r in map(norm_path, roots))


def _row(session: str, sent: Egress, reads: list[Read], seen_hosts: set[str]) -> dict[str, Any]:
    sources = [
        r
        for r in reads
        if r.fingerprints & sent.fingerprints or r.copies & set(sent.files) or not sent.fingerprints
    ] or reads
    raw_ip = bool(RAW_IP.match(sent.host or ""))
    # a push to a named remote (origin) goes where the project's pushes go
    named_remote = sent.how == "git push" and "." not in sent.host
    new_host = bool(sent.host) and sent.host not in seen_hosts and not named_remote
    severity = "critical" if raw_ip or new_host else "high"
    call = sent.call
    return {
        "session_key": session,
        "finding_key": call.key,
        "event_ids": [e for r in sources for e in r.call.event_ids] + call.event_ids,
        "first_seen": sources[0].call.time,
        "last_seen": call.time,
        "severity": severity,
        "evidence": {
            "how": sent.how,
            "destination": sent.host or None,
            "raw_ip": raw_ip,
            "new_destination": new_host,
            "files": sent.files,
            "fingerprints": sorted(sent.fingerprints),
            "read_from": [f for r in sources for f in r.files],
            "read_by": [s for r in sources for s in r.sources][:5],
            "sent_by": call.command[:300] or call.value("url"),
            "first_read_at": sources[0].call.time,
            "sent_at": call.time,
        },
    }


def _one_per_call(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A call with several sinks (`curl a && scp b`) is one finding: its worst."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        kept = best.get(row["finding_key"])
        if kept is None or (row["severity"] == "critical" and kept["severity"] != "critical"):
            best[row["finding_key"]] = row
    return list(best.values())
