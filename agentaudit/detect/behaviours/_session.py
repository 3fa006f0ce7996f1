"""What a session says about itself: its task, project roots and environment.

Shared by the behaviour detectors that weigh a call against the session that made it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agentaudit.enrich.environments import infer_env_from_text, normalize_env_name
from agentaudit.store import Store

_HOME_DIR = re.compile(r"^(/home/[^/]+|/Users/[^/]+|/root)(?=/|$)")
_ENV_FILE = re.compile(r"(?:^|/)\.env\.([\w-]+)$")
# A prompt's own words weigh more than a file name or a branch.
_WEIGHTS = {"task": 3, "railway": 2, "aws_profile": 2, "branch": 2, "env_file": 1, "cwd": 1}

SESSION_COLUMNS = (
    "session_key, event_id, call_key, time, kind, operation, command, cwd, paths, target, "
    "target_env, text, env_clues, status, destructive, categories, credential_fp, secret_fps, "
    "source"
)
# what each clue enrichment stored (`env_clues`, kind=value) counts as: (evidence kind, why,
# whether the name is read for environment words or is an environment's own name)
_CLUES = {
    "branch": ("branch", "git branch", True),
    "railway": ("railway", "RAILWAY_ENVIRONMENT", False),
    "aws_profile": ("aws_profile", "AWS profile", False),
}


@dataclass
class SessionContext:
    session: str
    task_text: str = ""
    roots: set[str] = field(default_factory=set)
    evidence: list[tuple[str, str, str]] = field(default_factory=list)  # (env, kind, why)

    @property
    def env(self) -> str | None:
        """The environment the session works in, by weighted evidence; None when unknown."""
        scores: Counter[str] = Counter()
        for env, kind, _ in self.evidence:
            scores[env] += _WEIGHTS.get(kind, 1)
        if not scores:
            return None
        (best, top), *rest = scores.most_common()
        return None if rest and rest[0][1] == top else best

    def env_evidence(self) -> list[str]:
        env = self.env
        return [f"{kind}: {why}" for e, kind, why in self.evidence if e == env]


@functools.lru_cache(maxsize=4096)  # agents repeat prompts, cwds and branches across sessions
def _env_of(name: str, infer: bool) -> str | None:
    if infer:
        found = infer_env_from_text(name)
        return found[0] if found else None
    return normalize_env_name(name)


def _add(ctx: SessionContext, name: str | None, kind: str, why: str, infer: bool = False) -> None:
    if not name:
        return
    env = _env_of(name, infer)
    if env and env != "unknown":
        ctx.evidence.append((env, kind, why))


def is_user_prompt(row: dict[str, Any]) -> bool:
    operation = (row.get("operation") or "").lower()
    return row["kind"] == "message" and ("user" in operation or "prompt" in operation)


def session_context(session: str, rows: list[dict[str, Any]]) -> SessionContext:
    """Read a session's rows (any order) for its task, roots and environment evidence."""
    ctx = SessionContext(session)
    # rows without a time (Codex exec, Claude Desktop) first, then in time order: a session
    # may mix them with timed rows of the same agent's hooks or telemetry
    for row in sorted(rows, key=lambda r: (r["time"] is not None, r["time"] or 0)):
        if row.get("cwd"):
            ctx.roots.add(row["cwd"].rstrip("/"))
        if is_user_prompt(row) and row.get("text"):
            ctx.task_text += " " + row["text"]
            _add(ctx, row["text"], "task", f"task says {row['text'][:80]!r}", infer=True)
        for clue in row.get("env_clues") or []:
            name, _, value = clue.partition("=")
            if name == "aws_profile" and row.get("destructive"):
                continue  # the profile of a destructive call is its target's, not the session's
            kind, why, infer = _CLUES[name]
            _add(ctx, value, kind, why, infer=infer)
        for path in row.get("paths") or []:
            match = _ENV_FILE.search(path)
            if match:
                _add(ctx, match.group(1), "env_file", f"read {path}")
    for root in ctx.roots:
        # a home directory names a user (/home/dev), not an environment
        _add(ctx, _HOME_DIR.sub("", root), "cwd", f"cwd {root}", infer=True)
    return ctx


# Rows that can carry environment evidence (the rest of a session says nothing about it).
_EVIDENCE_SQL = r"""(kind = 'message' OR env_clues IS NOT NULL
    OR list_has_any(list_transform(coalesce(paths, []), lambda p: regexp_matches(p, '(^|/)\.env\.')), [TRUE]))"""


def sessions_rows(store: Store, sessions_sql: str) -> dict[str, list[dict[str, Any]]]:
    """Per session (from `sessions_sql`, one `session_key` column): its evidence rows, its
    destructive rows and one row per distinct cwd, time-ordered."""
    rows = store.rows(
        f"""WITH s AS ({sessions_sql}),
            picked AS (
                SELECT {SESSION_COLUMNS}, seq FROM event_sessions
                WHERE session_key IN (SELECT session_key FROM s)
                  AND (destructive OR {_EVIDENCE_SQL})
            ),
            cwds AS (
                SELECT session_key, NULL AS event_id, NULL AS call_key, min(time) AS time,
                       'other' AS kind, NULL AS operation, NULL AS command, cwd, NULL AS paths,
                       NULL AS target, NULL AS target_env, NULL AS text, NULL AS env_clues,
                       NULL AS status, FALSE AS destructive, NULL AS categories,
                       NULL AS credential_fp, NULL AS secret_fps, '' AS source, NULL AS seq
                FROM event_sessions
                WHERE cwd IS NOT NULL AND session_key IN (SELECT session_key FROM s)
                GROUP BY session_key, cwd
            )
            SELECT * FROM picked UNION ALL BY NAME SELECT * FROM cwds
            ORDER BY time, seq NULLS FIRST"""
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["session_key"], []).append(row)
    return grouped


def destructive_sessions_rows(store: Store, where: str = "TRUE") -> dict[str, list[dict[str, Any]]]:
    """Context rows of the sessions that hold at least one destructive event matching `where`."""
    return sessions_rows(
        store,
        f"SELECT DISTINCT session_key FROM event_sessions "
        f"WHERE destructive AND session_key IS NOT NULL AND {where}",
    )


def words(text: str) -> set[str]:
    """Lower-case word stems (first 5 letters) of a text, for loose topic matching."""
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower())}
