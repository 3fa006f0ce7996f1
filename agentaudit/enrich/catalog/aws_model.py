"""The AWS operation table: generated from botocore's service models, checked in, loaded once.

Why a generated file and not botocore at run time: loading all 455 service models takes
seconds and tens of MB on every enrichment run, the table loads in milliseconds (measured in
bench/RESULTS.md), and a botocore upgrade shows up as a reviewed diff of verdicts, not a
silent change. Regenerate with:

    python -m agentaudit.enrich.catalog.aws_model > agentaudit/enrich/catalog/data/aws_operations.json

test_aws_model.py regenerates it with the installed botocore and lists the differences.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

from agentaudit.enrich.catalog.aws_rules import Verdict, derive

TABLE = Path(__file__).with_name("data") / "aws_operations.json"


def _members(model: dict[str, Any], operation: dict[str, Any]) -> dict[str, str]:
    shapes = model["shapes"]
    shape = shapes.get(operation.get("input", {}).get("shape", ""), {})
    return {
        name: shapes.get(member.get("shape", ""), {}).get("type", "")
        for name, member in shape.get("members", {}).items()
    }


def build() -> dict[str, Any]:
    """The table from the installed botocore (heavy: imported only here)."""
    import botocore
    import botocore.loaders
    import botocore.session

    session = botocore.session.get_session()
    loader = botocore.loaders.create_loader()
    sources: dict[str, set[str]] = {}
    operations: dict[str, dict[str, Verdict]] = {}
    for service in session.get_available_services():
        model = loader.load_service_model(service, "service-2")
        metadata = model["metadata"]
        for prefix in {metadata.get("endpointPrefix"), metadata.get("signingName")} - {None}:
            sources.setdefault(str(prefix), set()).add(service)
        operations[service] = {
            name: derive(service, name, _members(model, op))
            for name, op in sorted(model["operations"].items())
        }
    return {
        "generator": f"botocore {botocore.__version__}",
        "sources": {prefix: sorted(s) for prefix, s in sorted(sources.items())},
        "operations": operations,
    }


def dumps(table: dict[str, Any]) -> str:
    """One operation a line, so a regenerated table diffs verdict by verdict."""
    lines = [
        "{",
        f'"generator": {json.dumps(table["generator"])},',
        f'"sources": {json.dumps(table["sources"], sort_keys=True)},',
        '"operations": {',
    ]
    services = sorted(table["operations"].items())
    for s_index, (service, ops) in enumerate(services):
        lines.append(f"{json.dumps(service)}: {{")
        items = sorted(ops.items())
        for o_index, (name, (effect, categories, conditions)) in enumerate(items):
            comma = "," if o_index < len(items) - 1 else ""
            plain = not categories and not conditions  # most: "read" or "write" alone
            verdict = json.dumps(effect if plain else [effect, list(categories), list(conditions)])
            lines.append(f"  {json.dumps(name)}: {verdict}{comma}")
        lines.append("}" + ("," if s_index < len(services) - 1 else ""))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def _verdict(value: str | list[Any]) -> Verdict:
    if isinstance(value, str):
        return value, (), ()
    return value[0], tuple(value[1]), tuple(value[2])


@functools.lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The checked-in table: {sources: {prefix: [service]}, operations: {service:
    {operation: (effect, categories, conditions)}}}."""
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    table["operations"] = {
        service: {name: _verdict(v) for name, v in ops.items()}
        for service, ops in table["operations"].items()
    }
    return table


if __name__ == "__main__":
    sys.stdout.write(dumps(build()))
