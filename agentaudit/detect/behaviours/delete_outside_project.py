"""A recursive delete of the home directory, the root, an unguarded variable or a path outside
the session's project (#93099 `rm -rf "$HOME"`, #10077 `rm -rf /`, #83058 outside the cwd).

Critical for home, root and `$VAR/` targets (an empty variable makes `/`), high for other
absolute paths outside every cwd the session worked in. Caches and temp dirs are fine.
"""

from __future__ import annotations

import os
import re
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.schema import FindingRow
from agentaudit.store import Store

_DELETERS = {"rm", "Remove-Item", "rmdir", "rd", "del", "ri"}
_HOME = re.compile(
    r"^(~|\$HOME|\$\{HOME\}|\$env:USERPROFILE|%USERPROFILE%|/home/[^/]+|/Users/[^/]+|/root)/?\*?$"
)
_ROOT = re.compile(r"^(/|/\*|[A-Za-z]:\\?|[A-Za-z]:\\\*|/home|/Users|/etc|/usr|/var|/opt)/?$")
_VAR_SLASH = re.compile(r"^\$\{?[A-Za-z_]\w*\}?/\*?$")
_HOME_PREFIX = re.compile(r"^(/home/[^/]+|/Users/[^/]+|/root)/")
_HARMLESS = re.compile(
    r"(^/tmp/|^/var/tmp/|/\.cache/|/node_modules/?|/__pycache__|/dist/?$|/build/?$|/target/?$)"
)


class DeleteOutsideProject(Detector):
    info = DetectorInfo(
        id="delete-outside-project",
        title="Recursive delete of the home directory, the root or outside the project",
        severity="critical",
        kind="behaviour",
        description="A recursive delete whose target is $HOME, /, an unguarded `$VAR/`, or an "
        "absolute path outside every working directory of the session.",
    )
    anchor = "destructive"

    def query(self) -> str:
        return r"""
        WITH hits AS (
            SELECT session_key, call_key, event_id, time, seq, command, argvs, cwd, operation
            FROM event_sessions
            WHERE destructive AND kind = 'process' AND list_contains(categories, 'fs_delete')
              -- only a path that leaves the cwd can: absolute, home, variable, parent
              AND regexp_matches(command, '[/~$]|\.\.')
        ), roots AS (
            SELECT session_key, list_distinct(list(cwd)) AS roots FROM event_sessions
            WHERE cwd IS NOT NULL AND session_key IN (SELECT session_key FROM hits)
            GROUP BY session_key
        )
        SELECT h.*, r.roots FROM hits h LEFT JOIN roots r USING (session_key)
        ORDER BY h.time, h.seq
        """

    def run(self, store: Store) -> list[FindingRow]:
        calls: dict[tuple[Any, str], list[dict[str, Any]]] = {}
        for row in store.rows(self.query()):
            calls.setdefault((row["session_key"], row["call_key"]), []).append(row)
        findings = []
        for (session, call_key), rows in calls.items():
            first = rows[0]
            verdict = classify_targets(
                first.get("argvs") or [], first.get("cwd"), first.get("roots") or []
            )
            if verdict is None:
                continue
            severity, target, why = verdict
            findings.append(
                self._finding(
                    {
                        "session_key": session,
                        "finding_key": call_key,
                        "event_ids": [r["event_id"] for r in rows],
                        "first_seen": first["time"],
                        "last_seen": rows[-1]["time"],
                        "severity": severity,
                        "evidence": {
                            "target": target,
                            "why": why,
                            "command": first["command"],
                            "cwd": first.get("cwd"),
                            "project_roots": first.get("roots"),
                        },
                    }
                )
            )
        return findings

    def title(self, evidence: dict[str, Any]) -> str:
        return f"Recursive delete of {evidence['target']} ({evidence['why']})"


def classify_targets(
    argvs: list[list[str]], cwd: str | None, roots: list[str]
) -> tuple[str, str, str] | None:
    """(severity, target, why) for the most dangerous delete target of a command line (the
    argv of each of its simple commands, as enrichment stored them)."""
    worst = None
    for argv in argvs:
        if not argv or os.path.basename(argv[0]) not in _DELETERS:
            continue
        for target in (a for a in argv[1:] if not a.startswith("-")):
            verdict = _classify(target, cwd, roots)
            if verdict and (worst is None or verdict[0] == "critical"):
                worst = verdict
                if verdict[0] == "critical":
                    return worst
    return worst


def _classify(target: str, cwd: str | None, roots: list[str]) -> tuple[str, str, str] | None:
    if _HOME.match(target):
        return "critical", target, "home directory"
    if _ROOT.match(target):
        return "critical", target, "filesystem root or system directory"
    if _VAR_SLASH.match(target):
        return "critical", target, "unguarded variable: empty means /"
    if target.startswith(("~/", "$HOME/", "${HOME}/")):
        if _HARMLESS.search(target):
            return None
        rest = target.split("/", 1)[1].rstrip("/")
        home_relative = [_HOME_PREFIX.sub("", r) for r in roots if _HOME_PREFIX.match(r)]
        if any(rest == r or rest.startswith(r + "/") for r in home_relative):
            return None
        return "high", target, "outside the project, in the home directory"
    if target.startswith("/"):
        if _HARMLESS.search(target) or any(
            target == r or target.startswith(r.rstrip("/") + "/") for r in [*roots, cwd or "\0"]
        ):
            return None
        return "high", target, "absolute path outside the project"
    if target.startswith("..") and cwd:
        resolved = os.path.normpath(os.path.join(cwd, target))
        if not any(resolved == r or resolved.startswith(r.rstrip("/") + "/") for r in roots):
            return "high", target, f"outside the project ({resolved})"
    return None
