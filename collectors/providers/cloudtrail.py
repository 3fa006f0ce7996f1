"""AWS CloudTrail in its three shapes, plus the flat forms tools export.

- S3 delivery files `{"Records": [...]}`, `.json` or `.json.gz`, and whole trees synced from
  S3 (`ingest` walks directories); the Records array is streamed (ijson), so memory does not
  grow with the file.
- LookupEvents output (`aws cloudtrail lookup-events`, one event a line or `{"Events": [...]}`):
  the record is a JSON *string* in `CloudTrailEvent`.
- EventBridge envelopes (`detail-type: "AWS API Call via CloudTrail"`, record under `detail`).

Downstream service actions (`userIdentity.invokedBy` a service, `AWSService` identities,
service-linked roles `AWSServiceRoleFor*`) are kept with `on_behalf_of` set, so they are not
counted as the actor's own calls. The access key id goes to `credential_id` (AKIA = long-term
key, ASIA = STS session); it identifies the key and is not the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput, loads_json
from agentaudit.collectors.providers._shared import (
    Record,
    dig,
    env_hints,
    first_text,
    head_text,
    json_records,
)
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_DENIED = re.compile(r"(?i)accessdenied|unauthorized|forbidden|notauthorized")
_SERVICE_ROLE = re.compile(r":assumed-role/(AWSServiceRoleFor[^/]+)")
_APP_ID = re.compile(
    r"(?:^|\s)app/(aa-(?P<agent>[a-z0-9-]+?)-(?P<session>[A-Za-z0-9]{4,}))(?:\s|$)"
)
_AMAZON_Q = re.compile(r"exec-env/AmazonQ-For-(?:CLI|IDE)")
# requestParameters keys that name the resource acted on, most specific first.
_TARGET_KEYS = (
    "dBInstanceIdentifier",
    "dBClusterIdentifier",
    "dBSnapshotIdentifier",
    "dBClusterSnapshotIdentifier",
    "bucketName",
    "tableName",
    "functionName",
    "secretId",
    "name",
    "trailName",
    "roleName",
    "userName",
    "policyArn",
    "groupName",
    "instanceProfileName",
    "logGroupName",
    "volumeId",
    "snapshotId",
    "imageId",
    "vpcId",
    "subnetId",
    "groupId",
    "routeTableId",
    "internetGatewayId",
    "natGatewayId",
    "networkInterfaceId",
    "fileSystemId",
    "stackName",
    "clusterName",
    "repositoryName",
    "queueUrl",
    "keyId",
    "detectorId",
    "backupVaultName",
    "recoveryPointArn",
    "accessKeyId",
)
_TARGET_SET = frozenset(_TARGET_KEYS)


class CloudTrail(Collector):
    name = "aws.cloudtrail"
    source = "aws.cloudtrail"
    version = "1"
    description = "AWS CloudTrail: delivery files (.json/.json.gz), LookupEvents, EventBridge"
    origin = "provider"
    vendor = "aws"
    splittable = True  # one output per record of {"Records": [...]}

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        return (
            (b'"Records"' in text[:64] and b'"eventSource"' in text)
            or b'"CloudTrailEvent"' in text
            or b"via CloudTrail" in text
            or (b'"eventSource"' in text and b'"eventName"' in text and b'"awsRegion"' in text)
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, ("Records", "Events")):
            if isinstance(item, Quarantined):
                yield item
                continue
            record, problem = _unwrap(item.value)
            if problem:
                raw = raw_json(item.value).encode()
                yield Quarantined(problem, raw, item.line, item.offset)
                continue
            yield self._event(record, item, src.path)

    def _event(self, record: dict[str, Any], item: Record, path: str) -> Output:
        identity = (
            record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
        )
        issuer = dig(identity, "sessionContext", "sessionIssuer") or {}
        actor = first_text(
            identity.get("arn"),
            issuer.get("arn") if isinstance(issuer, dict) else None,
            identity.get("userName"),
            identity.get("principalId"),
            identity.get("invokedBy"),
            identity.get("type"),
        )
        user_agent = first_text(record.get("userAgent"))
        agent, session = _agent_from_user_agent(user_agent)
        error_code = first_text(record.get("errorCode"))
        status = "success"
        if error_code:
            status = "denied" if _DENIED.search(error_code) else "failure"
        error = None
        if error_code:
            error = (
                f"{error_code}: {record.get('errorMessage')}"
                if record.get("errorMessage")
                else error_code
            )
        account = first_text(record.get("recipientAccountId"), identity.get("accountId"))
        target = _target(record)
        hints = env_hints(
            ids=[("aws_account", account)],
            names=[target, *_tag_values(record)],
        )
        when = parse_time(first_text(record.get("eventTime")))
        event_name = first_text(record.get("eventName"))
        return new_event(
            self.source,
            record_key=first_text(record.get("eventID")) or raw_json(record),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=when,
            time_precision="s" if when else "none",
            agent=agent,
            session_id=session,
            actor=actor,
            kind="auth" if event_name == "ConsoleLogin" else "api",
            tool_name=first_text(record.get("eventSource")),
            operation=event_name,
            target=target,
            env_hints=hints or None,
            status=status,
            error=error,
            raw=raw_json(record),
            credential_id=first_text(identity.get("accessKeyId")),
            source_ip=first_text(record.get("sourceIPAddress")),
            user_agent=user_agent,
            on_behalf_of=_downstream(identity, actor),
            operation_id=first_text(record.get("requestID")),
            repeat=False,
        )


def _unwrap(value: Any) -> tuple[dict[str, Any], str | None]:
    """The CloudTrail record inside a LookupEvents row or an EventBridge envelope."""
    if not isinstance(value, dict):
        return {}, "record is not a JSON object"
    if "CloudTrailEvent" in value:  # LookupEvents: the record is a JSON string
        try:
            inner = loads_json(value["CloudTrailEvent"])
        except (TypeError, ValueError) as exc:
            return {}, f"CloudTrailEvent is not JSON: {exc}"
        return (
            (inner, None) if isinstance(inner, dict) else ({}, "CloudTrailEvent is not an object")
        )
    if "detail-type" in value:  # EventBridge
        detail = value.get("detail")
        if not isinstance(detail, dict) or "eventName" not in detail:
            return {}, f"EventBridge event without a CloudTrail record ({value.get('detail-type')})"
        return detail, None
    if "eventName" not in value:
        return {}, "no eventName: not a CloudTrail record"
    return value, None


def _downstream(identity: dict[str, Any], actor: str | None) -> str | None:
    """The AWS service that made this call on someone's behalf, if it was not the actor's own."""
    invoked_by = identity.get("invokedBy")
    if isinstance(invoked_by, str) and invoked_by.endswith(".amazonaws.com"):
        return invoked_by
    role = _SERVICE_ROLE.search(actor or "")
    if role:
        return role.group(1)
    if identity.get("type") == "AWSService":
        return first_text(invoked_by, identity.get("principalId"), "AWSService")
    return None


def _agent_from_user_agent(user_agent: str | None) -> tuple[str, str | None]:
    """An agent named in the UA: `app/aa-<agent>-<session>` (our tag) or Amazon Q's exec-env."""
    if not user_agent:
        return "unknown", None
    tagged = _APP_ID.search(user_agent)
    if tagged:
        return tagged.group("agent"), tagged.group("session")
    if _AMAZON_Q.search(user_agent):
        return "amazon-q", None
    return "unknown", None


def _target(record: dict[str, Any]) -> str | None:
    resources = record.get("resources")
    if isinstance(resources, list):
        for resource in resources:
            arn = (
                first_text(resource.get("ARN"), resource.get("arn"))
                if isinstance(resource, dict)
                else None
            )
            if arn:
                return arn
    params = record.get("requestParameters")
    if not isinstance(params, dict):
        return None
    present = _TARGET_SET.intersection(params)
    for key in _TARGET_KEYS if present else ():
        value = params.get(key)
        if isinstance(value, str | int) and value != "":
            return str(value)
    instances = dig(params, "instancesSet", "items")
    if isinstance(instances, list) and instances and isinstance(instances[0], dict):
        return first_text(instances[0].get("instanceId"))
    return None


def _tag_values(record: dict[str, Any]) -> list[str]:
    """Values of tags in the request (`Environment=prod`), as `key=value` text."""
    params = record.get("requestParameters")
    found: list[str] = []
    if not isinstance(params, dict):
        return found
    for spec in dig(params, "tagSpecificationSet", "items") or []:
        for tag in dig(spec, "tags") or []:
            if isinstance(tag, dict):
                found.append(f"{tag.get('key')}={tag.get('value')}")
    for tag in params.get("tags") or []:
        if isinstance(tag, dict):
            found.append(f"{tag.get('key', tag.get('Key'))}={tag.get('value', tag.get('Value'))}")
    return found
