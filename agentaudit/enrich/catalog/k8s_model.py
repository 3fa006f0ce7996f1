"""The Kubernetes operation table: every (audit verb, resource[/subresource]) of the built-in API,
generated from the official Python client's generated Api classes (no OpenAPI file is shipped;
each `_<op>_serialize` method carries the HTTP method and path), checked in.

Regenerate from the installed client or a downloaded wheel (the client is 126 MB installed,
too much for base):

    python -m agentaudit.enrich.catalog.k8s_model [kubernetes-*.whl] \
        > agentaudit/enrich/catalog/data/k8s_operations.json
"""

from __future__ import annotations

import functools
import json
import re
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("data") / "k8s_operations.json"
_CALL = re.compile(r"method='([A-Z]+)',\s*resource_path='([^']+)'")
_PREFIX = re.compile(r"^/(api/v1|apis/[^/]+/[^/]+)/")


def audit_operation(http: str, path: str) -> str | None:
    """('DELETE', '/api/v1/namespaces/{namespace}/persistentvolumeclaims') ->
    'deletecollection persistentvolumeclaims' (the k8s collector's `<verb> <resource>`)."""
    match = _PREFIX.match(path)
    if match is None:
        return None
    parts = [p for p in path[match.end() :].split("/") if p]
    watch = parts[:1] == ["watch"]
    parts = parts[1:] if watch else parts
    if len(parts) >= 3 and parts[0] == "namespaces" and parts[1] == "{namespace}":
        parts = parts[2:]
    if not parts or parts[0].startswith("{"):
        return None
    item = len(parts) > 1 and parts[1].startswith("{")
    resource = parts[0] + (f"/{parts[2]}" if item and len(parts) > 2 else "")
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch"}
    if http == "GET":
        verb = "watch" if watch else "get" if item else "list"
    elif http == "DELETE":
        verb = "delete" if item else "deletecollection"
    elif http in verbs:
        verb = verbs[http]
    else:
        return None
    return f"{verb} {resource}"


def _sources(wheel: str | None) -> list[tuple[str, str]]:
    if wheel:
        with zipfile.ZipFile(wheel) as archive:
            names = sorted(
                n for n in archive.namelist() if re.match(r"kubernetes/client/api/\w+\.py$", n)
            )
            return [(n, archive.read(n).decode("utf-8")) for n in names]
    folder = Path(sysconfig.get_paths()["purelib"]) / "kubernetes" / "client" / "api"
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.py"))]


def build(wheel: str | None = None) -> dict[str, Any]:
    operations = sorted(
        {
            name
            for _file, source in _sources(wheel)
            for http, path in _CALL.findall(source)
            if (name := audit_operation(http, path))
        }
    )
    origin = Path(wheel).name if wheel else "installed kubernetes client"
    return {"generator": origin, "operations": operations}


def dumps(table: dict[str, Any]) -> str:
    ops = table["operations"]
    body = ",\n".join(f"  {json.dumps(op)}" for op in ops)
    return f'{{\n"generator": {json.dumps(table["generator"])},\n"operations": [\n{body}\n]\n}}\n'


@functools.lru_cache(maxsize=1)
def load() -> tuple[str, ...]:
    return tuple(json.loads(TABLE.read_text(encoding="utf-8"))["operations"])


if __name__ == "__main__":
    sys.stdout.write(dumps(build(sys.argv[1] if len(sys.argv) > 1 else None)))
