"""Credential provenance: a secret a session read (file) or saw (command output) is later used.

The PocketOS token sat in `scripts/domains/railway-domains.env`, a file for custom-domain
scripts, and the agent used it to delete a volume. Severity:
- critical: the using call is destructive;
- medium: a non-destructive call uses a secret from a file outside the task's project or one
  that belongs to another purpose (its path names a topic the task never mentions);
- a non-destructive use of the project's own credential is ordinary work: no finding.
"""

from __future__ import annotations

import os
import re
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours._session import SESSION_COLUMNS, session_context, words
from agentaudit.schema import FindingRow, latest
from agentaudit.store import Store

# Path parts that say nothing about a file's purpose.
_GENERIC = words(
    "home users scripts script config configs conf settings secrets secret env envs src app "
    "apps project projects repo repos local tmp var etc credentials credential token tokens "
    "key keys file files data dev prod staging production development railway aws"
)


class CredentialProvenance(Detector):
    info = DetectorInfo(
        id="credential-provenance",
        title="A call used a credential the session found in a file or command output",
        severity="critical",
        kind="behaviour",
        description="A secret read from a file or printed by a command is later the credential "
        "of a call in the same session; critical when the call is destructive, medium when a "
        "non-destructive call uses a secret from outside the project or from a file that "
        "belongs to another purpose.",
    )
    anchor = "credential_fp IS NOT NULL"

    def query(self) -> str:
        return """
        WITH reveals AS (
            SELECT session_key, event_id, time, kind, paths, unnest(secret_fps) AS fp,
                   credential_fp
            FROM event_sessions WHERE secret_fps IS NOT NULL AND kind IN ('file', 'process')
        ), uses AS (
            SELECT session_key, call_key, event_id, time, credential_fp, destructive
            FROM event_sessions WHERE credential_fp IS NOT NULL AND session_key IS NOT NULL
        )
        SELECT DISTINCT u.session_key FROM uses u JOIN reveals r
          ON r.fp = u.credential_fp AND r.time <= u.time AND r.session_key = u.session_key
         AND r.credential_fp IS DISTINCT FROM r.fp
        """

    def run(self, store: Store) -> list[FindingRow]:
        sessions = [r["session_key"] for r in store.rows(self.query())]
        findings = []
        for session in sessions:
            rows = store.rows(
                f"SELECT {SESSION_COLUMNS} FROM event_sessions WHERE session_key = ? "
                "ORDER BY time, seq",
                [session],
            )
            findings += [self._finding(row) for row in self._findings(session, rows)]
        return findings

    def _findings(self, session: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ctx = session_context(session, rows)
        task = words(ctx.task_text)
        revealed: dict[str, list[dict[str, Any]]] = {}
        calls: dict[str, list[dict[str, Any]]] = {}
        position: dict[str, int] = {}  # rows come in (time, seq) order: untimed ones last, by seq
        for row in rows:
            position[row["event_id"]] = len(position)
            for fp in row.get("secret_fps") or []:
                if fp != row.get("credential_fp") and row["kind"] in ("file", "process"):
                    revealed.setdefault(fp, []).append(row)
            if row.get("credential_fp") in revealed:
                calls.setdefault(row["call_key"], []).append(row)
        out = []
        for call_key, call_rows in calls.items():
            use = call_rows[0]
            fp = use["credential_fp"]
            reads = [
                r for r in revealed[fp] if position[r["event_id"]] <= position[use["event_id"]]
            ]
            if not reads:
                continue
            files = [p for r in reads if r["kind"] == "file" for p in (r.get("paths") or [])]
            outside = [f for f in files if not _inside(f, ctx.roots)]
            purposes = {
                f: sorted(w for w in _purpose(f, ctx.roots) if w[:5] not in task) for f in files
            }
            other_purpose = {f: p for f, p in purposes.items() if p}
            destructive = any(r.get("destructive") for r in call_rows)
            if destructive:
                severity = "critical"
            elif outside or other_purpose:
                severity = "medium"
            else:
                continue
            operation = next((r["operation"] for r in call_rows if r.get("operation")), None)
            out.append(
                {
                    "session_key": session,
                    "finding_key": call_key,
                    "event_ids": [r["event_id"] for r in reads]
                    + [r["event_id"] for r in call_rows],
                    "first_seen": reads[0]["time"],
                    "last_seen": latest(r["time"] for r in call_rows),
                    "severity": severity,
                    "evidence": {
                        "credential_fp": fp,
                        "read_from": files,
                        "revealed_by": [r["command"] for r in reads if r["kind"] == "process"],
                        "outside_project": outside,
                        "other_purpose": other_purpose,
                        "task": ctx.task_text.strip()[:200] or None,
                        "project_roots": sorted(ctx.roots),
                        "used_by": operation,
                        "destructive": destructive,
                        "target": use.get("target"),
                        "first_read_at": reads[0]["time"],
                        "used_at": use["time"],
                    },
                }
            )
        return out

    def title(self, evidence: dict[str, Any]) -> str:
        files = evidence.get("read_from") or []
        origin = f" from {files[0]}" if files else ""
        why = []
        if evidence.get("outside_project"):
            why.append("outside the project")
        if evidence.get("other_purpose"):
            topics = sorted({t for ts in evidence["other_purpose"].values() for t in ts})
            why.append(f"kept for another purpose ({', '.join(topics)})")
        suffix = f" [{'; '.join(why)}]" if why else ""
        return f"Credential{origin} used by {evidence.get('used_by') or 'a call'}{suffix}"


def _inside(path: str, roots: set[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots) or not path.startswith("/")


def _purpose(path: str, roots: set[str]) -> set[str]:
    """Topic words of the file's own path below the project root (its directory and name)."""
    root = next((r for r in roots if path.startswith(r + "/")), None)
    relative = path[len(root) + 1 :] if root else path
    stem = os.path.splitext(relative)[0].replace(".env", "")
    found = re.findall(r"[a-z]{3,}", stem.lower())
    return {w for w in found if w[:5] not in _GENERIC}
