"""Load Sigma rule directories, validate them, and run them on the DuckDB store.

Each rule file is validated against the Sigma JSON Schemas and parsed by pySigma on its
own, so a broken file is reported (file name and problem) and the others still load.
Base rules become WHERE clauses (`backend.py`); correlation rules become window queries
whose `timespan` bounds a RANGE frame, so three events an hour apart never count as three
within a minute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import jsonschema
import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from agentaudit.detect.sigma.backend import AgentAuditDuckDBBackend
from agentaudit.schema import EVENT_FIELDS, stable_id
from agentaudit.store import Store, now

BUILTIN_DIR = Path(__file__).resolve().parent / "rules"
_SCHEMA_DIR_CANDIDATES = (
    Path(__file__).resolve().parent / "schema",
    Path(__file__).resolve().parents[4] / "shared" / "sigma-schema",
)
_LEVELS = {
    "informational": "info",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}
_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class RuleError:
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class RuleSet:
    rules: list[SigmaRule | SigmaCorrelationRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # rule name/id -> file

    def named(self, key: str) -> SigmaRule | SigmaCorrelationRule | None:
        return next((r for r in self.rules if key in (r.name, str(r.id), r.title)), None)


def _schemas(schema_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The Sigma JSON Schemas (detection, correlation); None when not available here."""
    for directory in [schema_dir] if schema_dir else _SCHEMA_DIR_CANDIDATES:
        if directory and (directory / "sigma-detection-rule-schema.json").exists():
            return (
                json.loads((directory / "sigma-detection-rule-schema.json").read_text("utf-8")),
                json.loads((directory / "sigma-correlation-rules-schema.json").read_text("utf-8")),
            )
    return None


def rule_files(directories: list[Path]) -> list[Path]:
    files = []
    for directory in directories:
        files += [
            p for p in sorted(Path(directory).rglob("*.yml")) if not p.name.endswith(".tests.yml")
        ]
    return files


def load_rules(directories: list[Path] | None = None, schema_dir: Path | None = None) -> RuleSet:
    """Every rule in the directories (built-in pack when none given); bad files reported."""
    ruleset = RuleSet()
    schemas = _schemas(schema_dir)
    texts: list[tuple[Path, list[SigmaRule | SigmaCorrelationRule]]] = []
    for path in rule_files(directories or [BUILTIN_DIR]):
        try:
            text = path.read_text(encoding="utf-8")
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
            for doc in documents:
                if not isinstance(doc, dict):
                    raise ValueError("a rule document must be a mapping")
                if schemas:
                    schema = schemas[1] if "correlation" in doc else schemas[0]
                    # YAML reads `date: 2026-11-22` as a date; the schema wants the string
                    plain = {k: str(v) if k in ("date", "modified") else v for k, v in doc.items()}
                    jsonschema.validate(plain, schema, format_checker=jsonschema.FormatChecker())
                if (
                    "correlation" not in doc
                    and doc.get("logsource", {}).get("product") != "agentaudit"
                ):
                    raise ValueError("logsource.product must be agentaudit")
            parsed = [
                SigmaCorrelationRule.from_dict(doc)
                if "correlation" in doc
                else SigmaRule.from_dict(doc)
                for doc in documents
            ]  # semantic errors of this file alone; references resolve across files below
            texts.append((path, parsed))
        except jsonschema.ValidationError as exc:
            ruleset.errors.append(
                RuleError(str(path), f"schema: {exc.message} at {list(exc.absolute_path)}")
            )
        except (SigmaError, yaml.YAMLError, ValueError, OSError) as exc:
            ruleset.errors.append(RuleError(str(path), f"{type(exc).__name__}: {exc}"))
    rules: list[SigmaRule | SigmaCorrelationRule] = []
    for path, parsed in texts:
        for rule in parsed:
            ruleset.files[rule.name or str(rule.id)] = path
        rules += parsed
    merged = SigmaCollection(rules)
    try:
        merged.resolve_rule_references()
    except SigmaError as exc:
        ruleset.errors.append(RuleError("(correlations)", str(exc)))
    ruleset.rules = list(merged.rules)
    return ruleset


_LOADED: dict[tuple, RuleSet] = {}


def load_rules_cached(directories: list[Path]) -> RuleSet:
    """`load_rules`, reused while no rule file changed (same names, sizes, mtimes): parsing
    and validating the pack takes about a second, more than the watch service's page budget."""
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in rule_files(directories))
    key = (tuple(str(d) for d in directories), stamp)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_rules(directories)
    return _LOADED[key]


def level_of(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return _LEVELS.get(str(rule.level.name).lower() if rule.level else "medium", "medium")


def timespan_seconds(spec: Any) -> int:
    text = str(getattr(spec, "spec", spec))
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        seconds = getattr(spec, "seconds", None)
        if seconds is None:
            raise ValueError(f"bad timespan {text!r}")
        return int(seconds)
    return int(match.group(1)) * _UNITS[match.group(2)]


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

    def __init__(self) -> None:
        self.backend = AgentAuditDuckDBBackend()

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

    def correlation_query(
        self,
        corr: SigmaCorrelationRule,
        source: str = "event_sessions",
        predicate: Callable[[SigmaRule], str] | None = None,
    ) -> str:
        """`source` and `predicate` let the one-scan path read its table of matches, where
        a base rule's clause is a lookup in the row's list of matched rules."""
        predicate = predicate or self.where
        kind = str(corr.type.name).lower() if hasattr(corr.type, "name") else str(corr.type)
        kind = kind.replace("correlationtype.", "")
        bases = correlation_bases(corr)
        groups = [self._column(g) for g in (corr.group_by or [])]
        seconds = timespan_seconds(corr.timespan)
        partition = ", ".join(groups) if groups else "1"
        matched = ", ".join(f"CASE WHEN {predicate(b)} THEN {i} END" for i, b in enumerate(bases))
        any_match = " OR ".join(f"({predicate(b)})" for b in bases)
        window = (f"WINDOW win AS (PARTITION BY {partition} ORDER BY time "
                  f"RANGE BETWEEN INTERVAL {seconds} SECOND PRECEDING AND CURRENT ROW)")  # fmt: skip
        condition = corr.condition
        op = _OPERATORS[str(condition.op.name).lower()] if condition else ">="
        count = condition.count if condition else 1
        if kind == "event_count":
            # calls, not rows: a hook's before/after records and the shell line count once
            measure = "len(list_distinct(list(call_key) OVER win))"
        elif kind == "value_count":
            column = self._column(condition.fieldref)
            measure = f"len(list_distinct(list({column}) OVER win))"
        elif kind == "temporal":
            measure = "len(list_distinct(flatten(list(matched) OVER win)))"
            op, count = ">=", len(bases)
        elif kind == "temporal_ordered":
            # every rule matched in the window, each (first) before the next one's last match;
            # exact for two rules, a necessary condition for longer chains
            firsts = [
                f"min(CASE WHEN list_contains(matched, {i}) THEN time END) OVER win"
                for i in range(len(bases))
            ]
            lasts = [
                f"max(CASE WHEN list_contains(matched, {i}) THEN time END) OVER win"
                for i in range(len(bases))
            ]
            ordered = " AND ".join(
                [f"({f}) IS NOT NULL" for f in firsts]
                + [f"({firsts[i]}) <= ({lasts[i + 1]})" for i in range(len(bases) - 1)]
            )
            measure = f"CASE WHEN {ordered} THEN {len(bases)} ELSE 0 END"
            op, count = ">=", len(bases)
        else:
            raise ValueError(f"{corr.title}: correlation type {kind} is not supported")
        group_key = (
            " || '|' || ".join(f"coalesce(CAST({g} AS VARCHAR), '')" for g in groups) or "'all'"
        )
        return f"""
        WITH base AS (
            SELECT *, list_filter([{matched}], lambda x: x IS NOT NULL) AS matched
            FROM {source}
            -- a timespan needs real times: untimed history lines share a placeholder time
            WHERE ({any_match}) AND time_precision IS DISTINCT FROM 'none'
        ), w AS (
            SELECT *, {measure} AS n, min(time) OVER win AS window_start,
                   list(event_id) OVER win AS window_ids
            FROM base {window}
        )
        SELECT {groups[0] if groups and groups[0] == "session_key" else "session_key"} AS session_key,
               {group_key} AS finding_key,  -- one per group (below): not per window, so a
               -- finding keeps its id however the events arrive (watch's passes, one-shot)
               window_ids AS event_ids, window_start AS first_seen, time AS last_seen,
               to_json({{"count": n, "group_key": {group_key}, timespan_seconds: {seconds}}}) AS evidence
        FROM w WHERE n {op} {count}
        QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY n DESC, time) = 1
        """

    @staticmethod
    def _column(name: str) -> str:
        if name not in EVENT_FIELDS and name not in ("session_key", "call_key"):
            raise ValueError(f"unknown field {name!r}: not a canonical column")
        return name


def output_rules(ruleset: RuleSet) -> list[SigmaRule | SigmaCorrelationRule]:
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
    chosen = (
        [r for r in ruleset.rules if (r.name or str(r.id)) in only]
        if only
        else output_rules(ruleset)
    )
    for rule in chosen:
        key = rule.name or str(rule.id)
        try:
            if isinstance(rule, SigmaCorrelationRule):
                sql, kind = compiler.correlation_query(rule), "correlation"
            else:
                sql, kind = compiler.base_query(rule), "rule"
            rows = store.rows(sql)
        except Exception as exc:  # one broken rule must not stop the others
            errors.append(
                RuleError(str(ruleset.files.get(key, key)), f"{type(exc).__name__}: {exc}")
            )
            continue
        findings += [_finding(rule, kind, row) for row in rows]
    return findings, errors


def _finding(
    rule: SigmaRule | SigmaCorrelationRule, kind: str, row: dict[str, Any]
) -> dict[str, Any]:
    rule_id = f"sigma:{rule.name or rule.id}"
    session = row["session_key"]
    evidence = json.loads(row["evidence"]) if isinstance(row["evidence"], str) else row["evidence"]
    evidence["sigma_id"] = str(rule.id) if rule.id else None
    evidence["tags"] = [str(t) for t in (rule.tags or [])]
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


MATCHES_TABLE = "sigma_matches"
# what `_base_select` and the correlation queries read from the matches
_MATCH_COLUMNS = (
    "session_key", "call_key", "event_id", "time", "time_precision", "operation", "command",
    "target", "severity", "categories", "source",
)  # fmt: skip


@dataclass
class OneScan:
    """The whole pack as one pass: every base rule's clause is evaluated once per event into
    a list of matched rule indexes, the matching events go to a TEMP table, and the base
    findings (one GROUP BY) and each correlation (window query) read that small table.
    One query per rule scanned `event_sessions` (events joined with links) once per rule.
    The SQL is built once per rule set (`of` caches it)."""

    bases: list[SigmaRule]
    outputs: list[tuple[SigmaCorrelationRule, str]]  # correlation, its SQL on the matches
    matches_sql: str
    base_outputs: dict[int, SigmaRule]  # base rule index -> rule, for findings of base rules
    base_sql: str  # every base rule's findings in one GROUP BY over the matches
    any_match: str  # SQL condition on one event: true when some base rule matches it
    errors: list[RuleError]
    files: dict[str, Path]
    combined_sql: str = ""  # the matches, the base findings and every correlation at once

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
        compiler = RuleCompiler()
        bases: list[SigmaRule] = []
        wheres: list[str] = []
        errors: list[RuleError] = []

        def index(rule: SigmaRule) -> int:
            for i, known in enumerate(bases):
                if known is rule:
                    return i
            wheres.append(compiler.where(rule))  # raises on a rule that cannot convert
            bases.append(rule)
            return len(bases) - 1

        outputs: list[tuple[SigmaCorrelationRule, str]] = []
        base_outputs: dict[int, SigmaRule] = {}
        for rule in output_rules(ruleset):
            key = rule.name or str(rule.id)
            try:
                if isinstance(rule, SigmaCorrelationRule):
                    for base in correlation_bases(rule):
                        index(base)
                    sql = compiler.correlation_query(
                        rule,
                        source=MATCHES_TABLE,
                        predicate=lambda b: f"list_contains(sigma_rules, {index(b)})",
                    )
                    outputs.append((rule, sql))
                else:
                    base_outputs[index(rule)] = rule
            except Exception as exc:  # one rule that cannot convert must not stop the others
                errors.append(
                    RuleError(str(ruleset.files.get(key, key)), f"{type(exc).__name__}: {exc}")
                )
        flags = ", ".join(f"CASE WHEN {w} THEN {i} END" for i, w in enumerate(wheres)) or "NULL"
        # only the columns the findings and correlations read: `SELECT *` would drag every
        # column (the raw record included) of every row through the scan
        columns = set(_MATCH_COLUMNS)
        for corr, _sql in outputs:
            columns |= {compiler._column(g) for g in corr.group_by or []}
            if corr.condition and getattr(corr.condition, "fieldref", None):
                columns.add(compiler._column(corr.condition.fieldref))
        selected = ", ".join(f"es.{c}" for c in sorted(columns))
        # the clauses read event columns only, so they run on `events` and only the matching
        # rows pay for the join with links that gives their session and call keys
        matches_select = f"""
        WITH hits AS (
            SELECT * FROM (
                SELECT event_id, list_filter([{flags}], lambda x: x IS NOT NULL) AS sigma_rules
                FROM events
            ) WHERE len(sigma_rules) > 0
        )
        SELECT {selected}, hits.sigma_rules FROM event_sessions es JOIN hits USING (event_id)
        """
        matches_sql = f"CREATE OR REPLACE TEMP TABLE {MATCHES_TABLE} AS {matches_select}"
        wanted = ", ".join(str(i) for i in base_outputs) or "NULL"
        base_sql = _base_select(
            f"{MATCHES_TABLE}, unnest(sigma_rules) AS u(rule_index)",
            f"rule_index IN ({wanted})",
            rule_column="rule_index,",
        )
        any_match = " OR ".join(f"({w})" for w in wheres) or "FALSE"
        # Every output in one statement over the matches (a CTE computed once): each
        # statement costs a round of DuckDB's planning and scheduling, which here is most
        # of a correlation's cost on a watch window.
        columns_out = "session_key, finding_key, event_ids, first_seen, last_seen, evidence"
        parts = [f"SELECT -1 AS output, rule_index, {columns_out} FROM ({base_sql})"]
        parts += [
            f"SELECT {i} AS output, NULL AS rule_index, {columns_out} FROM ({sql})"
            for i, (_rule, sql) in enumerate(outputs)
        ]
        combined_sql = (
            f"WITH {MATCHES_TABLE} AS MATERIALIZED ({matches_select}) " + " UNION ALL ".join(parts)
        )
        return cls(
            bases,
            outputs,
            matches_sql,
            base_outputs,
            base_sql,
            f"({any_match})",
            errors,
            dict(ruleset.files),
            combined_sql,
        )

    def run(self, store: Store) -> tuple[list[dict[str, Any]], list[RuleError]]:
        if self.combined_sql:
            rows = store.rows(self.combined_sql)
            # base findings first, then each correlation in pack order (as run one by one)
            rows.sort(key=lambda row: row["output"])
            findings = [
                _finding(self.base_outputs[row["rule_index"]], "rule", row)
                if row["output"] < 0
                else _finding(self.outputs[row["output"]][0], "correlation", row)
                for row in rows
            ]
            return findings, list(self.errors)
        return self.run_in_steps(store)

    def run_in_steps(self, store: Store) -> tuple[list[dict[str, Any]], list[RuleError]]:
        """The matches to a TEMP table, then the base findings and one query per correlation."""
        findings: list[dict[str, Any]] = []
        store.con.execute(self.matches_sql)
        try:
            if self.base_outputs:
                for row in store.rows(self.base_sql):
                    findings.append(_finding(self.base_outputs[row["rule_index"]], "rule", row))
            for rule, sql in self.outputs:
                findings += [_finding(rule, "correlation", row) for row in store.rows(sql)]
        finally:
            store.con.execute(f"DROP TABLE IF EXISTS {MATCHES_TABLE}")
        return findings, list(self.errors)


def _title(rule: SigmaRule | SigmaCorrelationRule, kind: str, evidence: dict[str, Any]) -> str:
    """The rule's title with what it matched, so two findings of one rule read apart."""
    if kind == "correlation":  # the count is in the evidence: it grows as events arrive
        return rule.title
    what = evidence.get("operation") or evidence.get("command") or evidence.get("target")
    return f"{rule.title}: {str(what)[:80]}" if what else rule.title
