"""Download then execute across a session: a file fetched by one call, run by a later one.

A call downloads to a path (`curl -o`, `curl -O`, `wget -O`, `gh release download`,
`pip download -d`); a later call runs that path (directly, through an interpreter or
`source`, or installs it: `dpkg -i`, `pip install x.whl`), usually after `chmod +x`. High;
critical when the file came from a raw IP or a paste site; medium when the file was
verified by a checksum or signature before it ran. A download that is never run (a release
archive checked by its checksum and kept) raises nothing. Within one command line the
command analyser classes it (`remote_code_exec`); this detector needs two calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._credentials import RAW_IP, Call, group_calls, host_of
from agentaudit.enrich.commands.flows import FETCHERS, download_target
from agentaudit.schema import FindingRow
from agentaudit.store import Store

_RUNNERS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "source", ".", "python", "python3",
            "node", "perl", "ruby", "php", "deno", "bun", "pwsh", "powershell", "osascript"}  # fmt: skip
_INSTALLERS = {("dpkg", "-i"), ("rpm", "-i"), ("rpm", "-U"), ("rpm", "-ivh"), ("rpm", "-Uvh"),
               ("apt", "install"), ("apt-get", "install"), ("pip", "install"),
               ("pip3", "install"), ("npm", "install"), ("installer", "-pkg")}  # fmt: skip
_VERIFIERS = {"sha256sum", "sha512sum", "sha1sum", "shasum", "b2sum", "cosign", "minisign",
              "gpg", "gpgv", "slsa-verifier"}  # fmt: skip
# Paste and anonymous file-drop sites: nobody reviews what is served there.
_PASTE = re.compile(
    r"(^|\.)(pastebin\.com|paste\.ee|hastebin\.com|hastebin\.skyra\.pw|ghostbin\.\w+|rentry\.(co|org)|"
    r"dpaste\.(org|com)|termbin\.com|ix\.io|sprunge\.us|0x0\.st|transfer\.sh|paste\.rs|"
    r"controlc\.com|justpaste\.it|pastes\.dev|bpa\.st|gist\.githubusercontent\.com|"
    r"anonfiles\.com|file\.io|temp\.sh)$"
)
# One event that may start the flow (SQL over `event_sessions`).
_COLUMNS = "session_key, event_id, call_key, time, seq, kind, command, argvs, status"
# a program `download_target` reads, in command position (`http://` is not the httpie CLI)
_DOWNLOAD_HINT = (
    r"kind = 'process' AND regexp_matches(coalesce(command, ''), "
    r"'(^|[^\w.-])(" + "|".join(sorted(FETCHERS)) + r")\s|"
    r"\bgh\s+release\s+download\b|\bpip3?\s+download\b')"
)


@dataclass
class Download:
    call: Call
    path: str
    url: str
    verified: bool = False
    made_executable: list[Call] = field(default_factory=list)


class DownloadExec(Detector):
    info = DetectorInfo(
        id="download-exec",
        title="A file downloaded earlier in the session was run",
        severity="high",
        kind="behaviour",
        description="A call downloads a file (curl -o, wget -O, gh release download, pip "
        "download) and a later call runs or installs it; critical from a raw IP or a paste "
        "site, medium when a checksum or signature was verified first.",
    )
    anchor = "kind = 'process'"

    def query(self) -> str:
        return (
            "SELECT DISTINCT session_key FROM event_sessions "
            f"WHERE session_key IS NOT NULL AND {_DOWNLOAD_HINT}"
        )

    def run(self, store: Store) -> list[FindingRow]:
        # each session's calls from its first download on (nothing earlier can run it), and
        # only what downloads_run reads: argv, command, status and time
        rows = store.rows(
            f"""WITH first AS (
                    SELECT session_key, min(time) AS since FROM event_sessions
                    WHERE session_key IS NOT NULL AND {_DOWNLOAD_HINT} GROUP BY session_key)
                SELECT {_COLUMNS} FROM event_sessions JOIN first USING (session_key)
                WHERE kind = 'process' AND (time >= since OR time IS NULL OR since IS NULL)
                ORDER BY session_key, time, seq"""
        )
        findings = []
        for session, calls in group_calls(rows).items():
            findings += [self._finding(r) for r in downloads_run(session, calls)]
        return findings

    def title(self, evidence: dict[str, Any]) -> str:
        return (
            f"Downloaded file run: {evidence.get('path')} from "
            f"{evidence.get('host') or 'the network'} ({evidence.get('run_by', '')[:60]})"
        )


def downloads_run(session: str, calls: list[Call]) -> list[dict[str, Any]]:
    downloads: list[Download] = []
    out = []
    for call in calls:
        if call.denied:
            continue
        earlier = [d for d in downloads if d.call is not call]
        for argv in call.argvs:
            downloads += _extracted(argv, earlier, call)
            for download in earlier:
                if _verifies(argv, download.path):
                    download.verified = True
                elif _makes_executable(argv, download.path):
                    download.made_executable.append(call)
                elif _runs(argv, download.path, call.command):
                    out.append(_row(session, download, call))
        downloads += _downloads(call)
    return _first_run_per_download(out)


def _downloads(call: Call) -> list[Download]:
    found = []
    for argv in call.argvs:
        url = next((a for a in argv if "://" in a), "")
        path = download_target(argv)
        if path is None and argv[:3] == ["gh", "release", "download"]:
            folder = _option(argv, "-D", "--dir") or "."
            pattern = _option(argv, "-p", "--pattern")
            named = f"{folder}/{pattern}" if pattern and "*" not in pattern else folder
            path = _option(argv, "-O", "--output") or named
            url = url or f"https://github.com/{_option(argv, '-R', '--repo') or ''}"
        if path is None and argv[:1] in (["pip"], ["pip3"]) and "download" in argv:
            path = _option(argv, "-d", "--dest") or "."
            url = url or "https://pypi.org"
        if path:
            found.append(Download(call, path.rstrip("/") or path, url))
    return found


def _extracted(argv: list[str], downloads: list[Download], call: Call) -> list[Download]:
    """A downloaded archive unpacked into a named directory (`tar xzf a.tgz -C d`, `unzip a.zip
    -d d`): the directory's files came from the same place (unpacked into the cwd, their
    names are not known)."""
    if not argv or argv[0] not in ("tar", "unzip", "bsdtar", "7z"):
        return []
    folder = _option(argv, "-C", "--directory") or (
        _option(argv, "-d", "-d") if argv[0] == "unzip" else None
    )
    if not folder:
        return []
    found = []
    for download in downloads:
        if any(_same(download.path, a) for a in argv[1:] if not a.startswith("-")):
            found.append(
                Download(download.call, folder.rstrip("/"), download.url, download.verified)
            )
    return found


def _option(argv: list[str], short: str, long: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg in (short, long) and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
    return None


def _same(path: str, arg: str) -> bool:
    """`arg` names the downloaded file (by path or name) or a file in the downloaded directory."""
    arg = arg.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    if arg == path or (name not in ("", ".", "..") and arg.rsplit("/", 1)[-1] == name):
        return True
    return path not in ("", ".") and arg.startswith(path + "/")


def _verifies(argv: list[str], path: str) -> bool:
    if not argv or argv[0] not in _VERIFIERS:
        return False
    args = argv[1:]
    return any(a in ("-c", "--check", "--verify", "verify-blob", "-V") for a in args) or any(
        _same(path, a) for a in args if not a.startswith("-")
    )


def _makes_executable(argv: list[str], path: str) -> bool:
    return (
        argv[:1] == ["chmod"]
        and any("x" in a or a.isdigit() for a in argv[1:2] + argv[1:3])
        and any(_same(path, a) for a in argv[1:])
    )


def _runs(argv: list[str], path: str, command: str) -> bool:
    if not argv:
        return False
    program, args = argv[0], [a for a in argv[1:] if not a.startswith("-")]
    name = path.rsplit("/", 1)[-1]
    if program == name and program not in _RUNNERS and f"/{name}" in command:
        return True  # run by its path (./x, /tmp/x), not a tool of the same name on PATH
    if program in _RUNNERS and args and _same(path, args[0]):
        return True
    return any(program == p and flag in argv[1:] for p, flag in _INSTALLERS) and any(
        _same(path, a) for a in args
    )


def _row(session: str, download: Download, call: Call) -> dict[str, Any]:
    host = host_of(download.url)
    raw_ip, paste = bool(RAW_IP.match(host)), bool(_PASTE.search(host))
    if raw_ip or paste:
        severity = "critical"
    elif download.verified:
        severity = "medium"
    else:
        severity = "high"
    chmods = download.made_executable
    return {
        "session_key": session,
        "finding_key": f"{download.call.key}|{call.key}",
        "event_ids": download.call.event_ids
        + [e for c in chmods for e in c.event_ids]
        + call.event_ids,
        "first_seen": download.call.time,
        "last_seen": call.time,
        "severity": severity,
        "evidence": {
            "path": download.path,
            "url": download.url or None,
            "host": host or None,
            "raw_ip": raw_ip,
            "paste_site": paste,
            "verified": download.verified,
            "made_executable": bool(chmods),
            "downloaded_by": download.call.command[:300],
            "run_by": call.command[:300],
            "downloaded_at": download.call.time,
            "run_at": call.time,
        },
    }


def _first_run_per_download(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding per downloaded file: its first run (later runs restate it)."""
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["finding_key"].split("|", 1)[0] + row["evidence"]["path"], row)
    return list(first.values())
