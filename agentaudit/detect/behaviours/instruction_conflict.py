"""S6: the user said freeze / do not touch production / do not delete; the agent later did.

Three kinds of instruction, each forbidding something else later in the same session:
- FREEZE ("CODE FREEZE", "do not change anything", "hands off"): any destructive call, and the
  writes a freeze forbids even when no category calls them destructive (schema push,
  migration, deploy);
- NO_DELETE ("do not delete", "never drop"): any destructive call;
- NO_PROD ("don't touch prod", "leave production alone"): a destructive call on production
  (its target's environment, or a command naming prod).
Stamped at the violating call. What the instruction scopes it to is then read
(`instruction_scope.py`): "outside this repo", "only staging", the targets the task itself
names; a read-only call never conflicts.
"""

from __future__ import annotations

import json
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.detect.behaviours.instruction_scope import conflicts
from agentaudit.enrich.instructions import FREEZE, FREEZE_WRITES, NO_DELETE, NO_PROD
from agentaudit.schema import FindingRow
from agentaudit.store import Store


class InstructionConflict(Detector):
    info = DetectorInfo(
        id="instruction-conflict",
        title="Destructive call after the user said not to",
        severity="critical",
        kind="behaviour",
        description="A user prompt declares a freeze or forbids deleting or touching "
        "production; later in the session the agent runs a destructive call or a write the "
        "freeze forbids (S6).",
    )
    anchor = "instructions IS NOT NULL"

    def query(self) -> str:
        return f"""
        WITH said AS (
            -- enrichment marked what each user prompt forbids; the phrase is for the page
            SELECT session_key, event_id, time, text,
                   list_contains(instructions, 'freeze') AS said_freeze,
                   list_contains(instructions, 'no_delete') AS no_delete,
                   list_contains(instructions, 'no_prod') AS no_prod,
                   coalesce(nullif(regexp_extract(text, '{FREEZE}'), ''),
                            nullif(regexp_extract(text, '{NO_DELETE}'), ''),
                            nullif(regexp_extract(text, '{NO_PROD}'), '')) AS phrase
            FROM event_sessions
            WHERE instructions IS NOT NULL AND session_key IS NOT NULL
        ), did AS (
            SELECT session_key, call_key, event_id, time, operation, command, destructive,
                   scope, target, target_env,
                   regexp_matches(coalesce(command, ''), '{FREEZE_WRITES}') AS freeze_write,
                   target_env = 'production'
                       OR regexp_matches(coalesce(command, ''), '(?i)\bprod(uction)?\b') AS on_prod
            FROM event_sessions
            WHERE kind IN ('process', 'api')
              AND session_key IN (SELECT session_key FROM said
                                  WHERE said_freeze OR no_delete OR no_prod)
        ), pairs AS (
            SELECT d.*, s.event_id AS said_id, s.time AS said_time, s.text AS said_text,
                   s.phrase
            FROM did d JOIN said s ON s.session_key = d.session_key AND s.time < d.time
            WHERE (s.said_freeze AND (d.destructive OR d.freeze_write))
               OR (s.no_delete AND d.destructive)
               OR (s.no_prod AND d.destructive AND d.on_prod)
        )
        SELECT session_key, call_key AS finding_key,
               list_distinct(flatten([list(said_id ORDER BY said_time), list(event_id ORDER BY time)]))
                   AS event_ids,
               min(time) AS first_seen, max(time) AS last_seen,
               to_json({{instruction: arg_max(said_text, said_time), said_at: max(said_time),
                         phrase: arg_max(phrase, said_time),
                         times_said: count(DISTINCT said_id),
                         operation: arg_min(operation, time), command: arg_min(command, time),
                         destructive: bool_or(destructive),
                         scopes: list(DISTINCT coalesce(scope, 'unknown')),
                         targets: list(DISTINCT target) FILTER (WHERE target IS NOT NULL),
                         target_envs: list(DISTINCT target_env)
                             FILTER (WHERE target_env NOT IN ('unknown')),
                         commands: list(DISTINCT command) FILTER (WHERE command IS NOT NULL),
                         instructions: list(DISTINCT said_text)}}) AS evidence
        FROM pairs GROUP BY session_key, call_key
        """

    def run(self, store: Store) -> list[FindingRow]:
        """The SQL's conflicts, less those the instruction's own scope allows."""
        rows = store.rows(self.query())
        return [self._finding(r) for r in rows if conflicts(json.loads(r["evidence"]))]

    def title(self, evidence: dict[str, Any]) -> str:
        said = (evidence.get("phrase") or evidence.get("instruction") or "").strip()[:60]
        what = (evidence.get("command") or evidence.get("operation") or "A destructive call")[:60]
        return f"{what} after the user said {said!r}"
