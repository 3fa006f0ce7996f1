"""Validate OCSF 1.8.0 records offline: the bundled JSON Schema plus semantic checks."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema


@lru_cache(maxsize=1)
def _schema() -> OcsfJsonSchemaEmbedded:
    return OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.8.0"))


@lru_cache(maxsize=64)
def _validator(class_uid: int, profiles: tuple[str, ...]) -> Draft202012Validator:
    schema = _schema()
    name = schema.lookup_class_name_from_uid(class_uid=class_uid)
    return Draft202012Validator(schema.get_class_schema(class_name=name, profiles=list(profiles)))


def _nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path or "<root>"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


def ocsf_errors(record: dict[str, Any]) -> list[str]:
    validator = _validator(record["class_uid"], tuple(record["metadata"].get("profiles", [])))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(record)]
    if record["type_uid"] != record["class_uid"] * 100 + record["activity_id"]:
        errors.append("type_uid != class_uid*100 + activity_id")
    if record["category_uid"] != record["class_uid"] // 1000:
        errors.append("category_uid != class_uid // 1000")
    for key in ("time", "start_time", "end_time"):
        if key in record and not 10**12 <= record[key] < 10**13:
            errors.append(f"{key} is not epoch milliseconds")
    errors += [f"null at {p}" for p in _nulls(record)]
    return errors
