"""AWS CloudTrail `eventName`s: verdicts derived from botocore's service models.

Every operation of every service has a verdict in the generated table (aws_model.py,
data/aws_operations.json): its effect, destruction categories and the input members that make
it destructive (`SkipFinalSnapshot=true>backup_destroy`). Reviewed exceptions and CloudTrail
names that differ from the API are in data/aws_overrides.toml. The table is keyed on service
plus operation: when services that share a name disagree (`DeleteDetector` in GuardDuty and in
Fraud Detector; `DeleteDBInstance` in rds, docdb and neptune, all logged as rds.amazonaws.com),
the record's `eventSource` picks the services. A few S3, EC2 and GuardDuty calls carry their
meaning in nested request bodies and are read by code here (`_RECORD_CHECKS`). The destructive
verdicts, per service, are listed in data/aws_destructive.txt (reviewed; test_aws_model.py).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentaudit.enrich.catalog import aws_model

OVERRIDES = Path(__file__).with_name("data") / "aws_overrides.toml"
_DATED = re.compile(r"20\d{6}(v\d+)?$")  # Lambda's DeleteFunction20150331, ...20150331v2


@dataclass(frozen=True)
class Verdict:
    effect: str  # read, write, delete, stop, disable, detach, revoke, expire, reset
    categories: tuple[str, ...]
    conditions: tuple[str, ...]  # "Member=value>category"
    source: str  # model, override, or unknown (not in botocore nor the overrides)


@functools.lru_cache(maxsize=1)
def _overrides() -> dict[str, Any]:
    return tomllib.loads(OVERRIDES.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, tuple[str, ...]]:
    """Operation name -> the services that have it."""
    found: dict[str, list[str]] = {}
    for service, operations in aws_model.load()["operations"].items():
        for name in operations:
            found.setdefault(name, []).append(service)
    return {name: tuple(services) for name, services in found.items()}


def operation_names() -> tuple[str, ...]:
    """Every operation name of every service (for matching a tool name to an operation)."""
    return tuple(_by_name())


def canonical(operation: str) -> str:
    return _DATED.sub("", operation)


def verdict(service: str, operation: str) -> Verdict:
    """The verdict of one (botocore service, CloudTrail eventName)."""
    name = canonical(operation)
    overrides = _overrides()
    override = overrides["verdicts"].get(f"{service}:{name}") or overrides["verdicts"].get(
        f"*:{name}"
    )
    if override:
        return Verdict(override["effect"], tuple(override["categories"]), (), "override")
    name = overrides["aliases"].get(f"{service}:{name}", name)
    found = aws_model.load()["operations"].get(service, {}).get(name)
    if found is None:
        return Verdict("unknown", (), (), "unknown")
    effect, categories, conditions = found
    return Verdict(effect, categories, conditions, "model")


def destructive_lines() -> list[str]:
    """`service Operation categories [if conditions]` for every operation that is or can be
    destructive, overrides applied: the reviewed list data/aws_destructive.txt, written by
    `python -m agentaudit.enrich.catalog.aws --destructive`."""
    keys = [(s, n) for s, ops in aws_model.load()["operations"].items() for n in ops]
    keys += [tuple(k.split(":", 1)) for k in _overrides()["verdicts"]]
    lines = set()
    for service, name in keys:
        found = verdict(service, name)
        if found.categories or found.conditions:
            line = f"{service} {name} {','.join(found.categories) or '-'}"
            lines.add(line + (f" if {' '.join(found.conditions)}" if found.conditions else ""))
    return sorted(lines)


def services_of(event_source: str | None) -> tuple[str, ...]:
    """botocore services logged under an eventSource (`rds.amazonaws.com` -> docdb, neptune,
    rds)."""
    prefix = str(event_source or "").split(".", 1)[0]
    return tuple(aws_model.load()["sources"].get(prefix, ()))


def _candidates(name: str) -> tuple[str, ...]:
    """Services an eventName can come from: botocore's, else those the overrides name."""
    found = _by_name().get(name)
    if found:
        return found
    keys = [k for section in ("verdicts", "aliases") for k in _overrides()[section]]
    named = tuple(dict.fromkeys(k.split(":", 1)[0] for k in keys if k.endswith(":" + name)))
    return named or ("*",)


@functools.lru_cache(maxsize=4096)
def _verdicts(name: str) -> tuple[Verdict, ...]:
    return tuple(dict.fromkeys(verdict(s, name) for s in _candidates(name)))


class _UnconditionalCategories(Mapping[str, tuple[str, ...]]):
    """eventName -> the categories it has without reading a record, over every service that
    has the name (what command analysis asks: programs/aws.py reads `EVENT_NAMES.get(api)`)."""

    def __getitem__(self, operation: str) -> tuple[str, ...]:
        found = tuple(
            dict.fromkeys(c for v in _verdicts(canonical(operation)) for c in v.categories)
        )
        if not found:
            raise KeyError(operation)
        return found

    def __iter__(self) -> Iterator[str]:
        return (name for name in _by_name() if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


EVENT_NAMES: Mapping[str, tuple[str, ...]] = _UnconditionalCategories()


def needs_record(operation: str) -> bool:
    """The record is read when services disagree, a member can decide, or code checks it."""
    name = canonical(operation)
    verdicts = _verdicts(name)
    return name in _RECORD_CHECKS or len(verdicts) > 1 or any(v.conditions for v in verdicts)


def verdicts_for(event_source: str | None, operation: str) -> list[Verdict]:
    """The verdicts of a CloudTrail eventName from this eventSource (of every service that
    has the name when the source is missing or names none of them)."""
    name = canonical(operation)
    services = services_of(event_source)
    candidates = [s for s in _candidates(name) if s in services] or list(_candidates(name))
    return [verdict(service, name) for service in candidates]


def classify(operation: str, record: dict[str, Any]) -> list[str]:
    name = canonical(operation)
    params = record.get("requestParameters")
    params = params if isinstance(params, dict) else {}
    found: list[str] = []
    for decided in verdicts_for(record.get("eventSource"), name):
        found += decided.categories
        found += [c for c in decided.conditions if _condition_holds(c, params)]
    check = _RECORD_CHECKS.get(name)
    if check:
        found += check(params)
    return list(dict.fromkeys(c.rsplit(">", 1)[-1] for c in found))


def _condition_holds(condition: str, params: dict[str, Any]) -> bool:
    """`SkipFinalSnapshot=true>backup_destroy` against the request (CloudTrail lower-cases
    the first letter: skipFinalSnapshot)."""
    member, _, rest = condition.partition("=")
    wanted = rest.split(">", 1)[0]
    value = _member(params, member.lower())
    if value is None:
        return False
    return str(value).lower() == wanted


def _member(params: dict[str, Any], wanted: str) -> Any:
    for key, value in params.items():
        if key.lower() == wanted:
            return value
    for value in params.values():  # one level down: {"scalingConfig": {"desiredSize": 0}}
        if isinstance(value, dict):
            for key, inner in value.items():
                if key.lower() == wanted:
                    return inner
    return None


def _versioning_off(params: dict[str, Any]) -> list[str]:
    config = params.get("VersioningConfiguration") or {}
    suspended = str(config.get("Status", "")).lower() == "suspended"
    mfa_off = str(config.get("MfaDelete", "")).lower() == "disabled"
    return ["backup_destroy"] if suspended or mfa_off else []


def _lifecycle_expires(params: dict[str, Any]) -> list[str]:
    return ["backup_destroy"] if _expires(params.get("LifecycleConfiguration")) else []


def _snapshot_unshared(params: dict[str, Any]) -> list[str]:
    removed = (params.get("createVolumePermission") or {}).get("remove")
    return ["backup_destroy"] if removed else []


def _detector_off(params: dict[str, Any]) -> list[str]:
    return ["audit_tamper"] if params.get("enable") is False else []


_RECORD_CHECKS = {
    "PutBucketVersioning": _versioning_off,
    "PutBucketLifecycle": _lifecycle_expires,
    "PutBucketLifecycleConfiguration": _lifecycle_expires,
    "ModifySnapshotAttribute": _snapshot_unshared,
    "UpdateDetector": _detector_off,
}

SHORT_EXPIRATION_DAYS = 90  # "short Expiration" (reference); a 2-year retention rule is policy


def _expires(config: Any) -> bool:
    """An enabled lifecycle rule that expires objects within SHORT_EXPIRATION_DAYS."""
    rules = config.get("Rule") if isinstance(config, dict) else None
    rules = rules if isinstance(rules, list) else [rules]
    for rule in rules:
        if not isinstance(rule, dict) or str(rule.get("Status", "Enabled")) != "Enabled":
            continue
        expiration = rule.get("Expiration")
        if not isinstance(expiration, dict):
            continue
        try:
            days = int(expiration.get("Days", 0))
        except (TypeError, ValueError):
            days = 0
        if days < SHORT_EXPIRATION_DAYS or "Date" in expiration:
            return True
    return False


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--destructive"]:
        sys.stdout.write("\n".join(destructive_lines()) + "\n")
