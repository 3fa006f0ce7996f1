"""Our pySigma backend: Sigma detections -> DuckDB WHERE clauses over `event_sessions`;
correlations -> window queries, written as pySigma's correlation templates.

A correlation's `timespan` bounds a RANGE frame, so three events an hour apart never count
as three within a minute. Its finding is one per group (never per window, so it keeps its id
however the events arrive): every event of every window in which the condition held, first
seen at the first such window's start; the group's session when it is grouped by session,
else none (the group itself is the anchor).

`MatchesBackend` writes the same correlations over the one-scan table of matches
(`sigma_matches`, see `run.py`), where "rule r matched this row" is a lookup in the row's
list of matched rule names instead of r's clause.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationConditionOperator, SigmaCorrelationRule
from sigma.processing.conditions import IncludeFieldCondition, LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.types import SigmaCompareExpression, SigmaRegularExpressionFlag, SigmaString

from agentaudit.detect.sigma.logsources import (
    DERIVED_FIELDS,
    DERIVED_LIST_FIELDS,
    KEYWORDS_IN_RECORD,
    RECORD_FIELD,
    logsource_of,
    sigmahq_pipeline,
)
from agentaudit.schema import EVENT_FIELDS

# Columns holding lists: a value matches when any element matches.
LIST_FIELDS = frozenset({"categories", "secret_fps", "paths"}) | DERIVED_LIST_FIELDS
# Portable Sigma field names analysts already use -> our canonical columns, in rules of
# `product: agentaudit` (SigmaHQ's log sources have their own mapping: logsources.py).
FIELD_MAPPING = {
    "CommandLine": "command",
    "CurrentDirectory": "cwd",
    "User": "os_user",
    "Computer": "host",
    "TargetFilename": "paths",
    "EventName": "operation",
    "eventName": "operation",
}
_PLACEHOLDER = "sigma_field_placeholder"  # stands for the field while pySigma writes a template
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
# Columns of `event_sessions` beyond the event's: what a correlation may group by.
SESSION_COLUMNS = ("session_key", "call_key")

# The frame of every correlation query (pySigma's {search}, {typing}, {aggregate},
# {condition}, {groupby}, {timespan}; {source} and {session} are ours, see
# `convert_correlation_rule_from_template`).
CORRELATION_FRAME = """
WITH base AS (
    SELECT *, {typing} AS matched FROM {source}
    -- a timespan needs real times: untimed history lines share a placeholder time
    WHERE {search} AND time_precision IS DISTINCT FROM 'none'
), w AS (
    SELECT *, {aggregate} AS n, min(time) OVER win AS window_start,
           list(event_id) OVER win AS window_ids, {groupby} AS group_key
    FROM base
    WINDOW win AS (PARTITION BY {groupby} ORDER BY time
                   RANGE BETWEEN INTERVAL {timespan} SECOND PRECEDING AND CURRENT ROW)
)
SELECT {session} AS session_key, group_key AS finding_key,
       list_distinct(flatten(list(window_ids ORDER BY time))) AS event_ids,
       min(window_start) AS first_seen, max(time) AS last_seen,
       to_json({{"count": max(n), "group_key": group_key, timespan_seconds: {timespan}}})
           AS evidence
FROM w WHERE {condition}
GROUP BY 1, 2
"""


def agentaudit_pipeline() -> ProcessingPipeline:
    portable = ProcessingPipeline(
        name="agentaudit canonical columns",
        priority=20,
        items=[
            ProcessingItem(
                identifier="agentaudit_field_names",
                transformation=FieldMappingTransformation(FIELD_MAPPING),
                rule_conditions=[LogsourceCondition(product="agentaudit")],
                field_name_conditions=[IncludeFieldCondition(fields=list(FIELD_MAPPING))],
            )
        ],
    )
    return portable + sigmahq_pipeline()


def record_path(field: str) -> str:
    """SQL for a path in the provider's record (`raw:a.b`); NULL when absent or JSON null,
    an object's JSON text when it is one. A row whose raw is not JSON reads as NULL (`try`:
    one parse per read; TRY_CAST to JSON first parsed every record twice)."""
    keys = field[len(RECORD_FIELD) :].split(".")
    path = "$." + ".".join('"' + k.replace('"', '\\"') + '"' for k in keys)
    return "try(json_extract_string(raw, '" + path.replace("'", "''") + "'))"


def field_sql(field: str) -> str:
    """A field name after the pipeline -> the SQL expression that reads it."""
    if field.startswith(RECORD_FIELD):
        return record_path(field)
    if field in DERIVED_FIELDS:
        return DERIVED_FIELDS[field]
    if field not in EVENT_FIELDS and field not in SESSION_COLUMNS:
        raise ValueError(f"unknown field {field!r}: not a canonical column")
    return field


class AgentAuditDuckDBBackend(TextQueryBackend):
    name: ClassVar[str] = "agentaudit DuckDB"
    formats: ClassVar[dict[str, str]] = {"default": "DuckDB WHERE clause over event_sessions"}
    requires_pipeline: ClassVar[bool] = False

    precedence = (ConditionNOT, ConditionAND, ConditionOR)
    group_expression = "({expr})"
    token_separator = " "
    or_token = "OR"
    and_token = "AND"
    not_token = "NOT"
    eq_token = " = "
    field_quote = '"'
    field_quote_pattern = re.compile(r"^[a-z_][a-z0-9_]*$")
    field_quote_pattern_negation = True
    str_quote = "'"
    escape_char = "\\"
    wildcard_multi = "%"
    wildcard_single = "_"
    add_escaped = "%_\\"
    filter_chars = ""
    bool_values: ClassVar[dict[bool, str | None]] = {True: "true", False: "false"}

    # Sigma strings are case-insensitive: ILIKE everywhere, with an explicit escape.
    eq_expression = "{field} ILIKE {value} ESCAPE '\\'"
    startswith_expression = "{field} ILIKE {value} || '%' ESCAPE '\\'"
    endswith_expression = "{field} ILIKE '%' || {value} ESCAPE '\\'"
    contains_expression = "{field} ILIKE '%' || {value} || '%' ESCAPE '\\'"
    wildcard_match_expression = "{field} ILIKE {value} ESCAPE '\\'"
    startswith_expression_allow_special = True
    endswith_expression_allow_special = True
    contains_expression_allow_special = True
    case_sensitive_match_expression = "{field} LIKE {value} ESCAPE '\\'"
    case_sensitive_startswith_expression = "{field} LIKE {value} || '%' ESCAPE '\\'"
    case_sensitive_endswith_expression = "{field} LIKE '%' || {value} ESCAPE '\\'"
    case_sensitive_contains_expression = "{field} LIKE '%' || {value} || '%' ESCAPE '\\'"

    re_expression = "regexp_matches({field}, {regex}{flag_x})"
    re_escape_char = "\\"
    re_escape: ClassVar[tuple[str, ...]] = ()
    re_escape_escape_char = False
    re_flag_prefix = False
    re_flags: ClassVar[dict[SigmaRegularExpressionFlag, str]] = {
        SigmaRegularExpressionFlag.IGNORECASE: "i",
        SigmaRegularExpressionFlag.MULTILINE: "m",
        SigmaRegularExpressionFlag.DOTALL: "s",
    }
    compare_op_expression = "{field} {operator} {value}"
    compare_operators: ClassVar[dict[SigmaCompareExpression.CompareOperators, str]] = {
        SigmaCompareExpression.CompareOperators.LT: "<",
        SigmaCompareExpression.CompareOperators.LTE: "<=",
        SigmaCompareExpression.CompareOperators.GT: ">",
        SigmaCompareExpression.CompareOperators.GTE: ">=",
    }
    field_null_expression = "{field} IS NULL"
    field_exists_expression = "{field} IS NOT NULL"
    field_not_exists_expression = "{field} IS NULL"
    field_equals_field_expression = "{field1} = {field2}"
    # keyword (value-only) searches look at every text a person would read; never `raw`:
    # what detection needs from a record is a column enrichment filled
    unbound_value_str_expression = (
        "concat_ws(' ', command, text, url, operation, target, error) "
        "ILIKE '%' || {value} || '%' ESCAPE '\\'"
    )
    unbound_value_num_expression = (
        "concat_ws(' ', command, text, url, operation, target, error) ILIKE '%{value}%'"
    )

    # -- correlations (pySigma's templates) --------------------------------------------------
    correlation_methods: ClassVar[dict[str, str]] = {
        "default": "window queries over event_sessions (RANGE frames bounded by the timespan)"
    }
    correlation_source = "event_sessions"
    default_correlation_query: ClassVar[dict[str, str]] = {"default": CORRELATION_FRAME}
    timespan_seconds: ClassVar[bool] = True
    # search: the rows any referenced rule matches; typing: the names of those it matches
    correlation_search_multi_rule_expression = "({queries})"
    correlation_search_multi_rule_query_expression = "({query})"
    correlation_search_multi_rule_query_expression_joiner = " OR "
    typing_expression = "list_filter([{queries}], lambda x: x IS NOT NULL)"
    typing_rule_query_expression = "CASE WHEN {query} THEN '{ruleid}' END"
    typing_rule_query_expression_joiner = ", "
    # the group as one text key (the window's partition and the finding's key)
    groupby_expression: ClassVar[dict[str, str]] = {"default": "{fields}"}
    groupby_field_expression: ClassVar[dict[str, str]] = {
        "default": "coalesce(CAST({field} AS VARCHAR), '')"
    }
    groupby_field_expression_joiner: ClassVar[dict[str, str]] = {"default": " || '|' || "}
    groupby_expression_nofield: ClassVar[dict[str, str]] = {"default": "'all'"}
    referenced_rules_expression: ClassVar[dict[str, str]] = {"default": "'{ruleid}'"}
    referenced_rules_expression_joiner: ClassVar[dict[str, str]] = {"default": ", "}
    # calls, not rows: a hook's before/after records and the shell line count once
    event_count_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "len(list_distinct(list(call_key) OVER win))"
    }
    value_count_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "len(list_distinct(list({field}) OVER win))"
    }
    temporal_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "len(list_distinct(flatten(list(matched) OVER win)))"
    }
    # (temporal_ordered: per rule chain, `_ordered_measure`)
    event_count_condition_expression: ClassVar[dict[str, str]] = {"default": "n {op} {count}"}
    value_count_condition_expression: ClassVar[dict[str, str]] = {"default": "n {op} {count}"}
    temporal_condition_expression: ClassVar[dict[str, str]] = {
        "default": "n >= len([{referenced_rules}])"
    }
    temporal_ordered_condition_expression: ClassVar[dict[str, str]] = {
        "default": "n >= len([{referenced_rules}])"
    }
    correlation_condition_mapping: ClassVar[dict[SigmaCorrelationConditionOperator, str | None]] = {
        SigmaCorrelationConditionOperator.LT: "<",
        SigmaCorrelationConditionOperator.LTE: "<=",
        SigmaCorrelationConditionOperator.GT: ">",
        SigmaCorrelationConditionOperator.GTE: ">=",
        SigmaCorrelationConditionOperator.EQ: "=",
        SigmaCorrelationConditionOperator.NEQ: "<>",
    }

    def __init__(
        self, processing_pipeline: ProcessingPipeline | None = None, **kwargs: Any
    ) -> None:
        pipeline = (
            agentaudit_pipeline() + processing_pipeline
            if processing_pipeline
            else agentaudit_pipeline()
        )
        super().__init__(pipeline, **kwargs)

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        converted = s.convert(
            self.escape_char, self.wildcard_multi, self.wildcard_single, self.add_escaped, ""
        )
        return "'" + converted.replace("'", "''") + "'"

    def convert_value_re(self, r: Any, state: ConversionState) -> str:
        return "'" + str(r.regexp).replace("'", "''") + "'"

    def convert_condition_field_eq_val_re(self, cond: Any, state: ConversionState) -> str:
        flags = "".join(self.re_flags[f] for f in cond.value.flags if f in self.re_flags)
        expr = f"regexp_matches({{field}}, {self.convert_value_re(cond.value, state)}, '{flags}')"
        return self._list_aware(cond, expr)

    def escape_and_quote_field(self, field_name: str) -> str:
        # every template's {field}: a column, a path in the record or a derived list
        return field_name if field_name == _PLACEHOLDER else field_sql(field_name)

    def _list_aware(self, cond: ConditionFieldEqualsValueExpression, template: str) -> str:
        sql = field_sql(cond.field)
        if cond.field in LIST_FIELDS:
            return (
                f"len(list_filter(coalesce({sql}, []), lambda x: {template.format(field='x')})) > 0"
            )
        return template.format(field=sql)

    def convert_condition_field_eq_val_str(self, cond: Any, state: ConversionState) -> str:
        field_sql(cond.field)  # an unknown field is an error before anything is written
        cond_copy = ConditionFieldEqualsValueExpression(_PLACEHOLDER, cond.value)
        cond_copy.parent = cond.parent
        expr = super().convert_condition_field_eq_val_str(cond_copy, state)
        return self._list_aware(cond, expr.replace(_PLACEHOLDER, "{field}"))

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: Any, state: ConversionState
    ) -> str:
        cond_copy = ConditionFieldEqualsValueExpression(_PLACEHOLDER, cond.value)
        cond_copy.parent = cond.parent
        expr = super().convert_condition_field_eq_val_str_case_sensitive(cond_copy, state)
        return self._list_aware(cond, expr.replace(_PLACEHOLDER, "{field}"))

    def convert_condition_field_eq_val_bool(self, cond: Any, state: ConversionState) -> str:
        value = "true" if cond.value.boolean else "false"
        if cond.field.startswith(RECORD_FIELD):  # JSON true/false read as text
            return f"{record_path(cond.field)} = '{value}'"
        return f"{field_sql(cond.field)} = {value}"

    def convert_condition_field_eq_val_num(self, cond: Any, state: ConversionState) -> str:
        if cond.field.startswith(RECORD_FIELD):  # a record's number, or text that is one
            return f"TRY_CAST({record_path(cond.field)} AS DOUBLE) = {cond.value}"
        return f"{field_sql(cond.field)} = {cond.value}"

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> str:
        """A keyword: in a provider's record anywhere (SigmaHQ's log sources), else in the
        texts a person reads."""
        if state.processing_state.get(KEYWORDS_IN_RECORD):
            value = self.convert_value_str(cond.value, state)
            return f"raw ILIKE '%' || {value} || '%' ESCAPE '\\'"
        return str(super().convert_condition_val_str(cond, state))

    def finish_query(self, rule: Any, query: Any, state: ConversionState) -> Any:
        """A SigmaHQ log source's rule reads only its events (an AWS rule never a GitHub
        record)."""
        query = super().finish_query(rule, query, state)
        source = logsource_of(_logsource_dict(rule))
        if source is None or source.scope == "true":
            return query
        return f"({source.scope}) AND ({query})"

    def finalize_query_default(
        self, rule: Any, query: Any, index: int, state: ConversionState
    ) -> Any:
        return query

    def convert_correlation_rule_from_template(
        self, rule: SigmaCorrelationRule, correlation_type: Any, method: str
    ) -> list[str]:
        """pySigma's, with our two placeholders: the table read and the finding's session."""
        for name in [*(rule.group_by or []), getattr(rule.condition, "fieldref", None)]:
            if name is not None and name not in EVENT_FIELDS and name not in SESSION_COLUMNS:
                raise ValueError(f"unknown field {name!r}: not a canonical column")
        session = "session_key" if "session_key" in (rule.group_by or []) else "NULL"
        frame = self.default_correlation_query["default"]
        self.default_correlation_query = {
            "default": frame.replace("{source}", self.correlation_source).replace(
                "{session}", session
            )
        }
        try:
            return super().convert_correlation_rule_from_template(rule, correlation_type, method)
        finally:
            self.default_correlation_query = {"default": frame}

    def convert_correlation_aggregation_from_template(
        self, rule: SigmaCorrelationRule, correlation_type: Any, method: str, search: str
    ) -> str:
        if correlation_type == "temporal_ordered":
            return self._ordered_measure(rule)
        return super().convert_correlation_aggregation_from_template(
            rule, correlation_type, method, search
        )

    def _ordered_measure(self, rule: SigmaCorrelationRule) -> str:
        """Every rule matched in the window, each (first) before the next one's last match:
        exact for two rules, a necessary condition for longer chains. The rule count when
        ordered, else 0."""
        names = [self.convert_correlation_ruleid(r.rule.name or r.rule.id, "'{ruleid}'")
                 for r in rule.referenced_rules]  # fmt: skip
        firsts = [f"min(CASE WHEN list_contains(matched, '{n}') THEN time END) OVER win"
                  for n in names]  # fmt: skip
        lasts = [f"max(CASE WHEN list_contains(matched, '{n}') THEN time END) OVER win"
                 for n in names]  # fmt: skip
        ordered = " AND ".join(
            [f"({f}) IS NOT NULL" for f in firsts]
            + [f"({firsts[i]}) <= ({lasts[i + 1]})" for i in range(len(names) - 1)]
        )
        return f"CASE WHEN {ordered} THEN {len(names)} ELSE 0 END"

    def convert_correlation_ruleid(self, ruleid: str | object | None, template: str) -> str:
        """A rule's name inside a quoted SQL string (a name, not a LIKE pattern)."""
        return "" if ruleid is None else str(ruleid).replace("'", "''")


class MatchesBackend(AgentAuditDuckDBBackend):
    """Correlations over the one-scan table of matches: a rule matched a row when its name is
    in the row's `sigma_rules`."""

    correlation_source = "sigma_matches"
    correlation_search_multi_rule_query_expression = "list_contains(sigma_rules, '{ruleid}')"
    typing_rule_query_expression = (
        "CASE WHEN list_contains(sigma_rules, '{ruleid}') THEN '{ruleid}' END"
    )


def _logsource_dict(rule: Any) -> dict[str, Any]:
    logsource = getattr(rule, "logsource", None)
    if logsource is None:
        return {}
    return {k: getattr(logsource, k, None) for k in ("product", "service", "category")}
