"""Kubernetes audit events (`audit.k8s.io/v1` and v1beta1 `Event`), as the log backend, an
`EventList` from the webhook, AKS diagnostic records (`properties.log` holds the event as
text) or GKE Cloud Audit Log entries (`protoPayload.methodName` io.k8s.*).

Each request can be logged at several stages (RequestReceived, ResponseStarted,
ResponseComplete, Panic) under one `auditID`. All are kept with `operation_id` = auditID; the
entry that counts is ResponseComplete (or ResponseStarted for long-running watch/exec/attach/
portforward calls, and Panic); the others are marked `repeat`. Requests by kube-system
controllers and the control plane (`system:serviceaccount:kube-system:*`, `system:kube-*`,
`system:node:*`) are marked `on_behalf_of`: they fan out from someone else's call (a namespace
delete makes the namespace-controller delete everything in it).
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

_LONG_RUNNING = {"watch", "exec", "attach", "portforward", "proxy", "log"}
_CONTROL_PLANE = re.compile(r"^system:(serviceaccount:kube-system:|kube-|node:|apiserver)")
_GKE_METHOD = re.compile(
    r"^io\.k8s\.(?P<group>.+?)\.(?P<version>v[^.]+)\.(?P<path>.+)\.(?P<verb>[a-z]+)$"
)


class KubernetesAudit(Collector):
    name = "k8s.audit"
    source = "k8s.audit"
    version = "1"
    description = "Kubernetes audit events (log backend, EventList, AKS kube-audit, GKE k8s.io)"
    origin = "provider"
    vendor = "k8s"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        return (
            b"audit.k8s.io" in text
            or b'"auditID"' in text
            or b"kube-audit" in text
            or (b'"objectRef"' in text and b'"verb"' in text)
            or b'"k8s.io"' in text
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, ("items",)):
            if isinstance(item, Quarantined):
                yield item
                continue
            event, problem = _audit_event(item.value)
            if problem:
                yield item.quarantined(problem)
                continue
            yield self._event(event, item, src.path)

    def _event(self, event: dict[str, Any], item: Record, path: str) -> Output:
        ref = event.get("objectRef") if isinstance(event.get("objectRef"), dict) else {}
        user = event.get("user") if isinstance(event.get("user"), dict) else {}
        verb = first_text(event.get("verb")) or "unknown"
        resource = first_text(ref.get("resource"))
        subresource = first_text(ref.get("subresource"))
        resource_path = f"{resource}/{subresource}" if resource and subresource else resource
        namespace, name = first_text(ref.get("namespace")), first_text(ref.get("name"))
        target = "/".join(p for p in (namespace, resource, name) if p) or first_text(
            event.get("requestURI")
        )
        code = dig(event, "responseStatus", "code")
        decision = dig(event, "annotations", "authorization.k8s.io/decision")
        status = "unknown"
        if isinstance(code, int):
            status = "success" if code < 400 else "denied" if code in (401, 403) else "failure"
        if decision == "forbid":
            status = "denied"
        stage = first_text(event.get("stage"))
        counted_stage = (
            "ResponseStarted"
            if verb in _LONG_RUNNING or subresource in _LONG_RUNNING
            else "ResponseComplete"
        )
        repeat = stage is not None and stage not in (counted_stage, "Panic")
        actor = first_text(user.get("username"))
        credential = dig(user, "extra", "authentication.kubernetes.io/credential-id")
        when = parse_time(
            first_text(
                event.get("stageTimestamp"),
                event.get("requestReceivedTimestamp"),
                event.get("timestamp"),
            )
        )
        audit_id = first_text(event.get("auditID"))
        hints = env_hints(ids=[("k8s_namespace", namespace)], names=[name])
        source_ips = event.get("sourceIPs") if isinstance(event.get("sourceIPs"), list) else []
        return new_event(
            self.source,
            record_key=f"{audit_id}\x1f{stage}" if audit_id else raw_json(event),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=when,
            time_precision="us" if when else "none",
            agent="unknown",
            actor=actor,
            kind="api",
            tool_name=first_text(ref.get("apiGroup")) or "core",
            operation=f"{verb} {resource_path}" if resource_path else verb,
            target=target,
            env_hints=hints or None,
            status=status,
            error=first_text(dig(event, "responseStatus", "message"))
            if status in ("failure", "denied")
            else None,
            raw=raw_json(event),
            credential_id=first_text(
                *(credential if isinstance(credential, list) else [credential])
            ),
            source_ip=first_text(*source_ips),
            user_agent=first_text(event.get("userAgent")),
            on_behalf_of=actor if actor and _CONTROL_PLANE.match(actor) else None,
            operation_id=audit_id,
            repeat=repeat,
        )


def _audit_event(value: Any) -> tuple[dict[str, Any], str | None]:
    """The audit Event inside whichever wrapper carried it."""
    if not isinstance(value, dict):
        return {}, "record is not a JSON object"
    log = dig(value, "properties", "log")
    if isinstance(log, str):  # AKS diagnostic settings: kube-audit
        try:
            inner = loads_json(log)
        except ValueError as exc:
            return {}, f"properties.log is not JSON: {exc}"
        return _audit_event(inner)
    if isinstance(value.get("protoPayload"), dict):  # GKE via Cloud Audit Logs
        return _from_gke(value), None
    if "verb" not in value and "objectRef" not in value:
        return {}, "no verb or objectRef: not a Kubernetes audit event"
    return value, None


def _from_gke(entry: dict[str, Any]) -> dict[str, Any]:
    payload = entry["protoPayload"]
    method = _GKE_METHOD.match(str(payload.get("methodName") or ""))
    parts = str(payload.get("resourceName") or "").split("/")
    ref: dict[str, Any] = {}
    if "namespaces" in parts and parts.index("namespaces") + 1 < len(parts):
        ref["namespace"] = parts[parts.index("namespaces") + 1]
    if method:
        resource, _, sub = method.group("path").partition(".")
        ref.update(
            resource=resource,
            apiGroup=None if method.group("group") == "core" else method.group("group"),
        )
        if sub:
            ref["subresource"] = sub
        if resource in parts and parts.index(resource) + 1 < len(parts):
            ref["name"] = parts[parts.index(resource) + 1]
    code = dig(payload, "status", "code")
    return {
        "auditID": entry.get("insertId"),
        "verb": method.group("verb") if method else payload.get("methodName"),
        "user": {"username": dig(payload, "authenticationInfo", "principalEmail")},
        "sourceIPs": [dig(payload, "requestMetadata", "callerIp")],
        "userAgent": dig(payload, "requestMetadata", "callerSuppliedUserAgent"),
        "objectRef": ref,
        "responseStatus": {"code": 200 if code in (None, 0) else 403 if code == 7 else 500},
        "stageTimestamp": entry.get("timestamp"),
        "gke": entry,
    }
