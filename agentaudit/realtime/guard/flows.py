"""The session-level credential and download rules, applied to a call before it runs.

The same functions the detectors `credential-exfil` and `download-exec` run over stored
sessions (`agentaudit/detect/behaviours/`) run here over the session's stored calls plus the
pending one: a call that would send a credential the session read, or run a file the session
downloaded, gets the verdict the detector would give it after the fact (critical: deny,
high: ask, below: no change).
"""

from __future__ import annotations

import re
from typing import Any

from agentaudit.enrich.commands.flows import network_sink

_CALLS_SQL = """
    SELECT session_id AS session_key, event_id, coalesce(tool_call_id, event_id) AS call_key,
           time, kind, operation, command, cwd, paths, target, target_env, text, env_clues,
           status, destructive, categories, credential_fp, secret_fps, source, argvs, url,
           provider, tool_name, seq
    FROM events WHERE session_id = ? AND kind IN ('process', 'file', 'api')
    ORDER BY time, seq
"""
_RUNS_A_PATH = re.compile(r"(^|[\s;&|(])\.{0,2}/[\w.-]")
_LAUNCHERS = {"sh", "bash", "zsh", "dash", "source", ".", "python", "python3", "node", "perl",
              "ruby", "php", "pwsh", "dpkg", "rpm", "pip", "pip3", "npm", "apt", "apt-get",
              "installer"}  # fmt: skip


def may_flow(argvs: list[list[str]], command: str) -> bool:
    """Whether the call could finish a flow (sends data, runs a file): worth a store lookup."""
    sends_or_runs = any(
        network_sink(argv) or (argv and argv[0] in _LAUNCHERS) or argv[:2] == ["git", "push"]
        for argv in argvs
    )
    return sends_or_runs or bool(_RUNS_A_PATH.search(command))


def session_calls(con: Any, session_id: str | None) -> list:
    """The session's stored calls (a DuckDB connection to the store), oldest first."""
    from agentaudit.detect.behaviours._credentials import group_calls

    if not session_id:
        return []
    cursor = con.execute(_CALLS_SQL, [session_id])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return group_calls(rows).get(session_id, [])


def flow_verdicts(calls: list, pending: dict[str, Any]) -> list[dict[str, Any]]:
    """What the credential-exfil and download-exec rules find on `pending` (an event row)."""
    from agentaudit.detect.behaviours._credentials import Call
    from agentaudit.detect.behaviours.credential_exfil import exfiltrations
    from agentaudit.detect.behaviours.download_exec import downloads_run

    last = calls[-1].time if calls else None
    pending = {"event_id": None, "time": last, "session_key": "pending"} | pending
    this = Call("pending-call", [pending], last, len(calls))
    session = [*calls, this]
    found = [("credential-exfil", r) for r in exfiltrations("pending", session)]
    found += [("download-exec", r) for r in downloads_run("pending", session)]
    return [
        {"rule": rule, "severity": r["severity"], "evidence": r["evidence"]}
        for rule, r in found
        if r["finding_key"].split("|")[-1] == this.key
    ]


def describe(verdict: dict[str, Any]) -> str:
    evidence = verdict["evidence"]
    if verdict["rule"] == "credential-exfil":
        what = (evidence.get("files") or evidence.get("read_from") or ["a credential"])[0]
        read = "; ".join(evidence.get("read_by") or [])[:120]
        how = (
            f"read earlier in this session by `{read}`" if read else "read earlier in this session"
        )
        return (
            f"it sends {what} ({how}) to {evidence.get('destination') or 'the network'} "
            f"({evidence.get('how')})"
        )
    return (
        f"it runs {evidence.get('path')}, downloaded earlier in this session from "
        f"{evidence.get('host') or 'the network'}"
        + (" (a raw IP)" if evidence.get("raw_ip") else "")
        + (" (a paste site)" if evidence.get("paste_site") else "")
    )
