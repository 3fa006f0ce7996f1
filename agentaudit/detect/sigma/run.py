"""Run a Sigma rule set on the store: one scan for the whole pack, or one query per rule.

Base rules become WHERE clauses and correlations window queries, both written by our pySigma
backend (`backend.py`); here they are put together and their rows become findings. A rule
that fails to convert or run is reported (its file and the problem); the others still run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import duckdb
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from agentaudit.detect.sigma.backend import AgentAuditDuckDBBackend, MatchesBackend
from agentaudit.detect.sigma.loader import RuleError, RuleSet, level_of
from agentaudit.schema import stable_id
from agentaudit.store import Store, now

Rule = SigmaRule | SigmaCorrelationRule
MATCHES_TABLE = "sigma_matches"
# what the base findings and the correlation queries read from the matches
_MATCH_COLUMNS = (
    "session_key", "call_key", "event_id", "time", "time_precision", "operation", "command",
    "target", "severity", "categories", "source",
)  # fmt: skip


def rule_key(rule: Rule) -> str:
    return rule.name or str(rule.id)


def _earliest(column: str) -> str:
    # the call's earliest stated value: a finding reads the same however its events arrive
    return f"first({column} ORDER BY time, event_id) FILTER (WHERE {column} IS NOT NULL)"


def _base_select(source: str, where: str, rule_column: str = "") -> str:
    # one finding per call: a hook's before/after records and the shell line of one call
    # share a call key
    return f"""
        SELECT {rule_column} session_key, call_key AS finding_key,
               list(event_id ORDER BY time) AS event_ids,
               min(time) AS first_seen, max(time) AS last_seen,
               to_json({{operation: {_earliest("operation")}, command: {_earliest("command")},
                         target: {_earliest("target")}, severity: max(severity),
                         categories: list_distinct(flatten(list(coalesce(categories, [])))),
                         sources: list_distinct(list(source))}}) AS evidence
        FROM {source} WHERE {where}
        GROUP BY ALL
        """


def correlation_bases(corr: SigmaCorrelationRule) -> list[SigmaRule]:
    bases = [r.rule for r in corr.rules]
    for base in bases:
        if not isinstance(base, SigmaRule):
            raise ValueError(f"{corr.title}: correlations of correlations are not supported")
    return bases


class RuleCompiler:
    """Sigma rule -> DuckDB SQL returning the detector FINDING_ROW columns."""

    def __init__(self, backend: AgentAuditDuckDBBackend | None = None) -> None:
        self.backend = backend or AgentAuditDuckDBBackend()

    def where(self, rule: SigmaRule) -> str:
        # pySigma silences rules a correlation references; we still need their clause
        silenced, rule._output = not rule._output, True
        try:
            queries = self.backend.convert_rule(rule)
        finally:
            rule._output = not silenced
        return " OR ".join(f"({q})" for q in queries) or "false"

    def base_query(self, rule: SigmaRule) -> str:
        return _base_select("event_sessions", self.where(rule))

    def correlation_query(self, corr: SigmaCorrelationRule) -> str:
        for base in correlation_bases(corr):
            self.where(base)  # the backend's templates read the bases' converted clauses
        return self.backend.convert_correlation_rule(corr)[0]


def output_rules(ruleset: RuleSet) -> list[Rule]:
    """Rules that produce findings: correlations, and base rules nobody references
    (or referenced with `generate: true`)."""
    referenced = set()
    for rule in ruleset.rules:
        if isinstance(rule, SigmaCorrelationRule) and not rule.generate:
            referenced |= {id(r.rule) for r in rule.rules}
    return [r for r in ruleset.rules if id(r) not in referenced]


def run_rules(
    store: Store, ruleset: RuleSet, only: list[str] | None = None, one_scan: bool = True
) -> tuple[list[dict[str, Any]], list[RuleError]]:
    """Findings of every output rule; a rule that fails to convert or run is reported.

    By default every base rule is evaluated in one pass over the events (`OneScan`); `only`
    (rule tests) and `one_scan=False` run one query per rule, which is also the fallback
    when the combined query fails, so the broken rule is named."""
    if one_scan and not only:
        try:
            return OneScan.of(ruleset).run(store)
        except duckdb.Error:
            pass  # one rule's SQL broke the combined query: per rule, to name it
    return _run_per_rule(store, ruleset, only)


def _run_per_rule(
    store: Store, ruleset: RuleSet, only: list[str] | None
) -> tuple[list[dict[str, Any]], list[RuleError]]:
    compiler = RuleCompiler()
    findings: list[dict[str, Any]] = []
    errors: list[RuleError] = []
    # `only` (rule tests) runs the named rules even when a correlation silences them
    chosen = [r for r in ruleset.rules if rule_key(r) in only] if only else output_rules(ruleset)
    for rule in chosen:
        try:
            if isinstance(rule, SigmaCorrelationRule):
                sql, kind = compiler.correlation_query(rule), "correlation"
            else:
                sql, kind = compiler.base_query(rule), "rule"
            rows = store.rows(sql)
        except Exception as exc:  # one broken rule must not stop the others
            errors.append(_error(ruleset, rule, exc))
            continue
        findings += [_finding(rule, kind, row) for row in rows]
    return findings, errors


def _error(ruleset: RuleSet, rule: Rule, exc: Exception) -> RuleError:
    key = rule_key(rule)
    return RuleError(str(ruleset.files.get(key, key)), f"{type(exc).__name__}: {exc}")


def _finding(rule: Rule, kind: str, row: dict[str, Any]) -> dict[str, Any]:
    rule_id = f"sigma:{rule.name or rule.id}"
    session = row["session_key"]
    evidence = json.loads(row["evidence"]) if isinstance(row["evidence"], str) else row["evidence"]
    evidence["sigma_id"] = str(rule.id) if rule.id else None
    evidence["tags"] = [str(t) for t in (rule.tags or [])]
    if rule.author and _product(rule) != "agentaudit":  # a SigmaHQ rule's licence (DRL 1.1)
        evidence["author"] = str(rule.author)
    return {
        "finding_id": stable_id(rule_id, session, row["finding_key"]),
        "rule_id": rule_id,
        "title": _title(rule, kind, evidence),
        "severity": level_of(rule),
        "kind": kind,
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "event_ids": list(row["event_ids"]),
        "session_id": session,
        "group_key": f"session:{session}" if session else f"orphan:{row['finding_key']}",
        "status": "open",
        "evidence": json.dumps(evidence, default=str, sort_keys=True),
        "created_at": now(),
    }


def _product(rule: Rule) -> str | None:
    logsource = getattr(rule, "logsource", None)
    return getattr(logsource, "product", None)


def _title(rule: Rule, kind: str, evidence: dict[str, Any]) -> str:
    """The rule's title with what it matched, so two findings of one rule read apart."""
    if kind == "correlation":  # the count is in the evidence: it grows as events arrive
        return rule.title
    what = evidence.get("operation") or evidence.get("command") or evidence.get("target")
    return f"{rule.title}: {str(what)[:80]}" if what else rule.title


@dataclass
class OneScan:
    """The whole pack as one pass: every base rule's clause is evaluated once per event into
    a list of the names of the rules it matched, the matching events go to a table of
    matches, and the base findings (one GROUP BY) and each correlation (window query) read
    that small table, in one statement (each statement costs a round of DuckDB's planning
    and scheduling, most of a correlation's cost on a watch window). One query per rule
    scanned `event_sessions` (events joined with links) once per rule. The SQL is built once
    per rule set (`of` caches it)."""

    bases: dict[str, SigmaRule]  # rule name -> base rule whose findings are output
    outputs: list[tuple[SigmaCorrelationRule, str]]  # correlation, its SQL on the matches
    any_match: str  # SQL condition on one event: true when some base rule matches it
    errors: list[RuleError]
    sql: str  # the matches, the base findings and every correlation at once

    _cache: ClassVar[dict[int, tuple[RuleSet, OneScan]]] = {}

    @classmethod
    def of(cls, ruleset: RuleSet) -> OneScan:
        cached = cls._cache.get(id(ruleset))
        if cached is None or cached[0] is not ruleset:
            cached = (ruleset, cls.compile(ruleset))
            cls._cache.clear()  # one pack at a time per process
            cls._cache[id(ruleset)] = cached
        return cached[1]

    @classmethod
    def compile(cls, ruleset: RuleSet) -> OneScan:
        compiler = RuleCompiler(MatchesBackend())
        wheres: dict[str, str] = {}  # every base rule some output needs -> its clause
        outputs: list[tuple[SigmaCorrelationRule, str]] = []
        bases: dict[str, SigmaRule] = {}
        errors: list[RuleError] = []
        columns = set(_MATCH_COLUMNS)
        for rule in output_rules(ruleset):
            try:
                if isinstance(rule, SigmaCorrelationRule):
                    needed = {rule_key(b): compiler.where(b) for b in correlation_bases(rule)}
                    outputs.append((rule, compiler.correlation_query(rule)))
                    wheres.update(needed)
                    columns |= set(rule.group_by or [])
                    if getattr(rule.condition, "fieldref", None):
                        columns.add(rule.condition.fieldref)
                else:
                    wheres[rule_key(rule)] = compiler.where(rule)
                    bases[rule_key(rule)] = rule
            except Exception as exc:  # one rule that cannot convert must not stop the others
                errors.append(_error(ruleset, rule, exc))
        names = {name: name.replace("'", "''") for name in wheres}
        flags = ", ".join(f"CASE WHEN {w} THEN '{names[n]}' END" for n, w in wheres.items())
        # only the columns the findings and correlations read: `SELECT *` would drag every
        # column (the raw record included) of every row through the scan; the clauses read
        # event columns only, so they run on `events` and only the matching rows pay for the
        # join with links that gives their session and call keys
        selected = ", ".join(f"es.{c}" for c in sorted(columns))
        matches = f"""
        WITH hits AS (
            SELECT * FROM (
                SELECT event_id,
                       list_filter([{flags or "NULL"}], lambda x: x IS NOT NULL) AS sigma_rules
                FROM events
            ) WHERE len(sigma_rules) > 0
        )
        SELECT {selected}, hits.sigma_rules FROM event_sessions es JOIN hits USING (event_id)
        """
        wanted = ", ".join(f"'{names[n]}'" for n in bases) or "NULL"
        base_sql = _base_select(
            f"{MATCHES_TABLE}, unnest(sigma_rules) AS u(rule_name)",
            f"rule_name IN ({wanted})",
            rule_column="rule_name,",
        )
        row = "session_key, finding_key, event_ids, first_seen, last_seen, evidence"
        parts = [f"SELECT -1 AS output, rule_name, {row} FROM ({base_sql})"]
        parts += [
            f"SELECT {i} AS output, NULL AS rule_name, {row} FROM ({sql})"
            for i, (_rule, sql) in enumerate(outputs)
        ]
        combined = f"WITH {MATCHES_TABLE} AS MATERIALIZED ({matches}) " + " UNION ALL ".join(parts)
        any_match = " OR ".join(f"({w})" for w in wheres.values()) or "FALSE"
        return cls(bases, outputs, f"({any_match})", errors, combined)

    def run(self, store: Store) -> tuple[list[dict[str, Any]], list[RuleError]]:
        rows = store.rows(self.sql)
        # base findings first, then each correlation in pack order (as run one by one)
        rows.sort(key=lambda row: row["output"])
        findings = [
            _finding(self.bases[row["rule_name"]], "rule", row)
            if row["output"] < 0
            else _finding(self.outputs[row["output"]][0], "correlation", row)
            for row in rows
        ]
        return findings, list(self.errors)
