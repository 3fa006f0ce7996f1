"""Files moved one by one onto the same path: each move overwrote the one before (Gemini CLI
#4586: `mkdir "..\\anuraag_xyz project"` failed, then every `move` renamed a file onto it).

MIN_MOVES single-source moves in one session onto one destination without a trailing slash,
after a `mkdir` of that destination that nothing verified. High; critical when the mkdir is
known to have failed. Stamped at the second move, the first that destroyed a file.
"""

from __future__ import annotations

import os
import re
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.schema import FindingRow
from agentaudit.store import Store

MIN_MOVES = 3
_MOVERS = {"mv", "move", "Move-Item", "mi"}
_MAKERS = {"mkdir", "md", "New-Item"}
_CHECKS = {"ls", "dir", "stat", "test", "Test-Path", "Get-ChildItem", "gci"}


class MoveOverwrite(Detector):
    info = DetectorInfo(
        id="move-overwrite",
        title="Files moved one by one onto the same path",
        severity="high",
        kind="behaviour",
        description=f"At least {MIN_MOVES} single-file moves onto one destination right after "
        "an unverified mkdir of it: if the directory does not exist, every move overwrites the "
        "previous file.",
    )
    anchor = (
        "kind = 'process' AND regexp_matches(command, '(^|[;&|]\\s*)(mv|move|Move-Item|mi)\\s')"
    )

    def query(self) -> str:
        return """
        SELECT session_key, call_key, event_id, time, command, argvs, status FROM event_sessions
        WHERE session_key IN (SELECT session_key FROM event_sessions
                              WHERE kind = 'process' AND regexp_matches(command, '(^|[;&|]\\s*)(mv|move|Move-Item|mi)\\s'))
          AND kind = 'process' AND command IS NOT NULL
        ORDER BY session_key, time, seq
        """

    def run(self, store: Store) -> list[FindingRow]:
        sessions: dict[str, list[dict[str, Any]]] = {}
        for row in store.rows(self.query()):
            sessions.setdefault(row["session_key"], []).append(row)
        return [self._finding(f) for s, rows in sessions.items() for f in _scan(s, rows)]

    def title(self, evidence: dict[str, Any]) -> str:
        return f"{evidence['moves']} files moved onto {evidence['destination']!r}: all but the last lost"


def _norm(path: str) -> str:
    return path.replace("\\", "/").rstrip()


def _scan(session: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    made: dict[str, dict[str, Any]] = {}  # destination -> its unverified mkdir
    moves: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for row in rows:
        for argv in row.get("argvs") or []:
            program = os.path.basename(argv[0]) if argv else ""
            args = [a for a in argv[1:] if not a.startswith("-")]
            if program in _MAKERS and args:
                for a in args:
                    made[_norm(a)] = row
            elif program in _CHECKS:
                for a in args:
                    made.pop(_norm(a), None)  # verified: the directory is known to exist
            elif program in _MOVERS and len(args) == 2 and not re.search(r"[/\\]$", args[1]):
                dest = _norm(args[1])
                if dest in made:
                    moves.setdefault(dest, (made[dest], []))[1].append(row)
    out = []
    for dest, (mkdir, moved) in moves.items():
        if len({r["event_id"] for r in moved}) < MIN_MOVES:
            continue
        failed = mkdir.get("status") in ("failure", "denied")
        out.append(
            {
                "session_key": session,
                "finding_key": f"move-overwrite:{dest}",
                "event_ids": [mkdir["event_id"]] + [r["event_id"] for r in moved],
                "first_seen": moved[1]["time"],
                "last_seen": moved[-1]["time"],
                "severity": "critical" if failed else "high",
                "evidence": {
                    "destination": dest,
                    "moves": len(moved),
                    "mkdir": mkdir["command"],
                    "mkdir_status": mkdir.get("status"),
                    "lost": len(moved) - 1,
                },
            }
        )
    return out
