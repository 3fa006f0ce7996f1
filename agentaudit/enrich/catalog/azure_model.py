"""The Azure operation table: Azure Resource Manager operations as the activity log names them
(`microsoft.sql/servers/delete`), generated from the request builders of the azure-mgmt-* SDKs
(URL template + HTTP method), checked in, loaded once.

No PyPI package ships Azure's provider-operations list (tests/data/providers/API_MODELS.md);
the SDKs of the providers that hold data, backups, logs, identity and networks are small
(23 packages, 8 MB of wheels) and give their operations offline. Regenerate (needs
`pip install 'agentaudit[models]'`):

    python -m agentaudit.enrich.catalog.azure_model > agentaudit/enrich/catalog/data/azure_operations.json
"""

from __future__ import annotations

import functools
import json
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("data") / "azure_operations.json"
_VERB = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
_BUILDER = re.compile(r"def build_\w+_request\(.*?(?=\ndef |\Z)", re.S)
_URL = re.compile(r'_url = (?:kwargs\.pop\(\s*"template_url",\s*)?"([^"]+)"')
_HTTP = re.compile(r'HttpRequest\(method="([A-Z]+)"')


def operation_name(url: str, http: str) -> str | None:
    """'/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Sql/servers/{n}', 'DELETE' ->
    'microsoft.sql/servers/delete'; a POST to `.../{n}/purge` -> '.../purge/action'."""
    match = re.search(r"/providers/([^/]+)/(.*)$", url)
    if match:
        namespace, path = match.group(1), match.group(2)
        if "/providers/" in path:  # an extension resource: name it by the inner provider
            return operation_name("/providers/" + path.split("/providers/", 1)[1], http)
        types = [p for p in path.split("/") if p and not p.startswith("{")]
    elif re.fullmatch(r"/subscriptions/\{[^}]+\}(/resource[gG]roups/\{[^}]+\})?", url):
        namespace = "Microsoft.Resources"
        types = ["subscriptions"] + (["resourcegroups"] if "roups" in url else [])
    else:
        return None
    if not types:
        return None
    verb = "action" if http == "POST" else _VERB.get(http)
    return f"{namespace}/{'/'.join(types)}/{verb}".lower() if verb else None


def build(site: str | None = None) -> dict[str, Any]:
    """{operation name: effect} from the azure-mgmt-* SDKs under `site` (site-packages)."""
    root = Path(site or sysconfig.get_paths()["purelib"]) / "azure" / "mgmt"
    operations: dict[str, str] = {}
    packages = []
    for package in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"):
        packages.append(package.name)
        for path in sorted(package.rglob("operations/*.py")):
            for builder in _BUILDER.finditer(path.read_text(encoding="utf-8")):
                url, http = _URL.search(builder.group(0)), _HTTP.search(builder.group(0))
                name = url and http and operation_name(url.group(1), http.group(1))
                if name:
                    operations[name] = name.rsplit("/", 1)[1]
    return {"generator": "azure-mgmt-" + ",".join(packages), "operations": operations}


def dumps(table: dict[str, Any]) -> str:
    items = sorted(table["operations"].items())
    lines = ["{", f'"generator": {json.dumps(table["generator"])},', '"operations": {']
    lines += [
        f"  {json.dumps(name)}: {json.dumps(effect)}" + ("," if i < len(items) - 1 else "")
        for i, (name, effect) in enumerate(items)
    ]
    return "\n".join([*lines, "}", "}"]) + "\n"


@functools.lru_cache(maxsize=1)
def load() -> dict[str, str]:
    """{operation name (lower case): read | write | delete | action}."""
    return dict(json.loads(TABLE.read_text(encoding="utf-8"))["operations"])


if __name__ == "__main__":
    sys.stdout.write(dumps(build(sys.argv[1] if len(sys.argv) > 1 else None)))
