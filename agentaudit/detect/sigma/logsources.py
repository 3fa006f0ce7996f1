"""SigmaHQ's own log sources on agentaudit's events: which events each one is, and where its
field names are in them.

A detection engineer's rules (`logsource: {product: aws, service: cloudtrail}`, ...) run as
they are: the processing pipeline built here renames their fields, either to a column
(`CommandLine` -> `command`) or to a path in the provider's own record, which the store keeps
whole in `raw` (`eventSource` -> `raw:eventSource`); the backend reads such a path with
DuckDB's JSON functions and puts the log source's `scope` before every query of the rule, so an
AWS rule never reads a GitHub record. Rules of `product: agentaudit` name our columns directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.processing.conditions import IncludeFieldCondition, LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddFieldnamePrefixTransformation,
    FieldMappingTransformation,
    FieldPrefixMappingTransformation,
    SetStateTransformation,
)

# A field the pipeline resolved to a path in the provider's record (`raw`), e.g. raw:a.b.c
RECORD_FIELD = "raw:"
# Processing state telling the backend that keyword searches read the whole record.
KEYWORDS_IN_RECORD = "agentaudit_keywords_in_record"
# The typed program of every simple command as '/<basename>': SigmaHQ's linux rules test
# `Image|endswith: '/rm'`; a history line has no resolved path, so an exact path never matches.
PROCESS_IMAGE = "process_image"
DERIVED_FIELDS = {
    PROCESS_IMAGE: "list_transform(coalesce(argvs, []), "
    "lambda a: '/' || regexp_extract(coalesce(a[1], ''), '[^/]*$'))",
}
DERIVED_LIST_FIELDS = frozenset({PROCESS_IMAGE})


@dataclass(frozen=True)
class LogSource:
    product: str
    service: str | None = None
    category: str | None = None
    scope: str = "true"  # SQL over event columns: the events this log source is
    fields: Mapping[str, str | list[str]] = field(default_factory=dict)  # several: any matches
    prefixes: Mapping[str, str] = field(default_factory=dict)  # field-name prefixes renamed
    # every other field is a path in the record, and keywords search the record
    record_fields: bool = True

    @property
    def label(self) -> str:
        return f"{self.product}/{self.service or self.category}"

    def matches(self, logsource: Mapping[str, Any]) -> bool:
        # as pySigma's LogsourceCondition: what this names must agree, a rule may name more
        # (kubernetes/audit rules add `category: application`)
        return all(
            logsource.get(key) == value
            for key, value in (
                ("product", self.product),
                ("service", self.service),
                ("category", self.category),
            )
            if value is not None
        )

    def condition(self) -> LogsourceCondition:
        return LogsourceCondition(
            product=self.product, service=self.service, category=self.category
        )


def _provider(name: str) -> str:
    return f"origin = 'provider' AND provider = '{name}'"


SIGMAHQ_LOGSOURCES = (
    # where the collector keeps a field verbatim in a column, the column: no JSON parse
    LogSource(
        "aws",
        service="cloudtrail",
        scope=_provider("aws"),
        fields={"eventName": "operation", "eventSource": "tool_name"},
    ),
    LogSource(
        "gcp",
        service="gcp.audit",
        scope=_provider("gcp"),
        # SigmaHQ's GCP rules use Elastic's names and a Pub/Sub `data.` envelope; the store
        # keeps the Cloud Logging LogEntry
        fields={
            "gcp.audit.method_name": "raw:protoPayload.methodName",
            "gcp.audit.service_name": "raw:protoPayload.serviceName",
            "gcp.audit.resource_name": "raw:protoPayload.resourceName",
            "gcp.audit.authentication_info.principal_email": (
                "raw:protoPayload.authenticationInfo.principalEmail"
            ),
        },
        prefixes={"data.": ""},
    ),
    LogSource(
        "azure",
        service="activitylogs",
        scope=_provider("azure"),
        # Azure Monitor's resource-log shape, or the Azure SDK's (operation_name.value)
        fields={
            name: [f"{RECORD_FIELD}operationName", f"{RECORD_FIELD}operation_name.value"]
            for name in ("operationName", "OperationNameValue")
        },
    ),
    LogSource("kubernetes", service="audit", scope=_provider("k8s")),
    LogSource("github", service="audit", scope=_provider("github"), fields={"action": "operation"}),
    LogSource(
        "linux",
        category="process_creation",
        scope="kind = 'process' AND command IS NOT NULL",
        fields={
            "CommandLine": "command",
            "Image": PROCESS_IMAGE,
            "User": "os_user",
            "CurrentDirectory": "cwd",
        },
        record_fields=False,
    ),
    LogSource(
        "windows",
        category="ps_script",
        # PowerShell's console history and transcripts: each command as run (Script Block
        # Logging's ScriptBlockText); the collectors name the shell in tool_name
        scope="kind = 'process' AND command IS NOT NULL AND lower(tool_name) IN ('pwsh', 'powershell')",
        fields={"ScriptBlockText": "command"},
        record_fields=False,
    ),
)
AGENTAUDIT = LogSource("agentaudit")


def logsource_of(logsource: Mapping[str, Any] | None) -> LogSource | None:
    """The log source a rule's `logsource` names, None when agentaudit's events carry none of
    it (a rule of `product: agentaudit` may name any category or service)."""
    logsource = logsource or {}
    if logsource.get("product") == "agentaudit":
        return AGENTAUDIT
    return next((s for s in SIGMAHQ_LOGSOURCES if s.matches(logsource)), None)


def supported_labels() -> list[str]:
    return ["agentaudit", *(s.label for s in SIGMAHQ_LOGSOURCES)]


def _resolved(source: LogSource) -> list[str]:
    """Patterns of the field names already resolved: record paths and mapped columns."""
    columns = {t for v in source.fields.values() for t in ([v] if isinstance(v, str) else v)}
    return [f"^{RECORD_FIELD}"] + [
        f"^{re.escape(c)}$" for c in sorted(columns) if not c.startswith(RECORD_FIELD)
    ]


def sigmahq_pipeline() -> ProcessingPipeline:
    """SigmaHQ field names -> columns or record paths, each item for its own log source.

    Every item is idempotent (a renamed field no longer matches it): pySigma applies the
    pipeline to the rule object itself, and a rule is converted more than once."""
    items: list[ProcessingItem] = []
    for source in SIGMAHQ_LOGSOURCES:
        key = source.label.replace("/", "_").replace(".", "_")
        if source.fields:
            items.append(
                ProcessingItem(
                    identifier=f"sigmahq_{key}_fields",
                    transformation=FieldMappingTransformation(dict(source.fields)),
                    rule_conditions=[source.condition()],
                    field_name_conditions=[IncludeFieldCondition(fields=list(source.fields))],
                )
            )
        if source.prefixes:
            items.append(
                ProcessingItem(
                    identifier=f"sigmahq_{key}_prefixes",
                    transformation=FieldPrefixMappingTransformation(dict(source.prefixes)),
                    rule_conditions=[source.condition()],
                )
            )
        if source.record_fields:
            items += [
                ProcessingItem(
                    identifier=f"sigmahq_{key}_record",
                    transformation=AddFieldnamePrefixTransformation(RECORD_FIELD),
                    rule_conditions=[source.condition()],
                    field_name_conditions=[IncludeFieldCondition(_resolved(source), "re")],
                    field_name_condition_negation=True,  # not already a record path or column
                ),
                ProcessingItem(
                    identifier=f"sigmahq_{key}_keywords",
                    transformation=SetStateTransformation(KEYWORDS_IN_RECORD, True),
                    rule_conditions=[source.condition()],
                ),
            ]
    return ProcessingPipeline(name="SigmaHQ log sources on agentaudit", priority=20, items=items)
