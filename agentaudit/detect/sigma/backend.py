"""AgentAuditDuckDBBackend: Sigma detection -> a DuckDB WHERE clause over `event_sessions`."""

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
from sigma.processing.conditions import IncludeFieldCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.types import SigmaCompareExpression, SigmaRegularExpressionFlag, SigmaString

from agentaudit.schema import EVENT_FIELDS

# Columns holding lists: a value matches when any element matches.
LIST_FIELDS = frozenset({"categories", "secret_fps", "paths"})
# Portable Sigma field names analysts already use -> our canonical columns.
FIELD_MAPPING = {
    "CommandLine": "command",
    "CurrentDirectory": "cwd",
    "User": "os_user",
    "Computer": "host",
    "TargetFilename": "paths",
    "EventName": "operation",
    "eventName": "operation",
    "eventSource": "source",
}
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def agentaudit_pipeline() -> ProcessingPipeline:
    return ProcessingPipeline(
        name="agentaudit canonical columns",
        priority=20,
        items=[
            ProcessingItem(
                identifier="agentaudit_field_names",
                transformation=FieldMappingTransformation(FIELD_MAPPING),
                field_name_conditions=[IncludeFieldCondition(fields=list(FIELD_MAPPING))],
            )
        ],
    )


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

    def _list_aware(self, cond: ConditionFieldEqualsValueExpression, template: str) -> str:
        field = cond.field
        if field not in EVENT_FIELDS:
            raise ValueError(f"unknown field {field!r}: not a canonical column")
        if field in LIST_FIELDS:
            return f"len(list_filter(coalesce({field}, []), lambda x: {template.format(field='x')})) > 0"
        return template.format(field=field)

    def convert_condition_field_eq_val_str(self, cond: Any, state: ConversionState) -> str:
        field = cond.field
        if field not in EVENT_FIELDS:
            raise ValueError(f"unknown field {field!r}: not a canonical column")
        cond_copy = ConditionFieldEqualsValueExpression("sigma_field_placeholder", cond.value)
        cond_copy.parent = cond.parent
        expr = super().convert_condition_field_eq_val_str(cond_copy, state)
        return self._list_aware(cond, expr.replace("sigma_field_placeholder", "{field}"))

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: Any, state: ConversionState
    ) -> str:
        cond_copy = ConditionFieldEqualsValueExpression("sigma_field_placeholder", cond.value)
        cond_copy.parent = cond.parent
        expr = super().convert_condition_field_eq_val_str_case_sensitive(cond_copy, state)
        return self._list_aware(cond, expr.replace("sigma_field_placeholder", "{field}"))

    def convert_condition_field_eq_val_bool(self, cond: Any, state: ConversionState) -> str:
        return f"{cond.field} = {'true' if cond.value.boolean else 'false'}"

    def finalize_query_default(
        self, rule: Any, query: Any, index: int, state: ConversionState
    ) -> Any:
        return query
