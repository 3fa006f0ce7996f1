"""The GCP method table: generated from the Discovery documents google-api-python-client bundles
(610 documents, 338 APIs), checked in, loaded once.

Why a generated file: the package is 111 MB, too much for a verb table in every install; the
table holds every method id once (ids repeat across API versions) with its verdict. Regenerate
(needs `pip install 'agentaudit[models]'`):

    python -m agentaudit.enrich.catalog.gcp_model > agentaudit/enrich/catalog/data/gcp_methods.json

test_gcp_model.py regenerates it when the package is installed and lists the differences.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.enrich.catalog.verbs import EFFECTS, verb_and_object

TABLE = Path(__file__).with_name("data") / "gcp_methods.json"
Verdict = tuple[str, tuple[str, ...]]

_BACKUP_COLLECTIONS = {
    "snapshots", "images", "backupruns", "backups", "backupvaults", "machineimages",
    "backupplans", "snapshotschedules", "recoverypoints",
}  # fmt: skip
_NETWORK_COLLECTIONS = {
    "firewalls", "networks", "routes", "subnetworks", "vpntunnels", "routers",
    "managedzones", "firewallpolicies", "vpngateways", "interconnects", "forwardingrules",
    "targethttpproxies", "targethttpsproxies", "urlmaps", "backendservices", "addresses",
    "globaladdresses", "networkendpointgroups", "securitypolicies",
}  # fmt: skip
_AUDIT_COLLECTIONS = {"sinks", "buckets", "logs", "exclusions", "links", "views", "metrics"}
_AUDIT_APIS = {"logging", "securitycenter", "cloudaudit"}
_IDENTITY_COLLECTIONS = {"serviceaccounts", "keys", "roles", "workloadidentitypools", "members"}
_IDENTITY_APIS = {"iam", "iamcredentials", "admin", "cloudidentity"}
_STOPPABLE = {"instances", "clusters", "services", "jobs", "nodepools", "environments"}
_BACKUP_APIS = {"cloudkms", "backupdr"}  # keys: what they encrypt is lost with them
_SECRET_VERSIONS = ("secretmanager", "versions")


def effect_of(http: str, verb: str) -> str:
    if http == "DELETE":
        return "delete"
    if http in ("GET", "HEAD"):
        return "read"
    word, _ = verb_and_object(verb[:1].upper() + verb[1:])
    return EFFECTS.get(word, "write")


def categories_of(api: str, collection: str, effect: str) -> tuple[str, ...]:
    """Destruction categories of a method by its effect, API and collection."""
    if effect == "delete":
        if api in _AUDIT_APIS and collection in _AUDIT_COLLECTIONS:
            return ("audit_tamper",)
        if collection in _BACKUP_COLLECTIONS or api in _BACKUP_APIS:
            return ("backup_destroy",)
        if (api, collection) == _SECRET_VERSIONS:
            return ("backup_destroy",)
        if collection in _NETWORK_COLLECTIONS:
            return ("network_delete",)
        if api in _IDENTITY_APIS and collection in _IDENTITY_COLLECTIONS:
            return ("identity_delete",)
        return ("cloud_delete",)
    if effect == "stop":
        return ("service_stop",) if collection in _STOPPABLE else ()
    if effect == "disable":
        if api in _AUDIT_APIS:
            return ("audit_tamper",)
        if api in _BACKUP_APIS or (api, collection) == _SECRET_VERSIONS:
            return ("backup_destroy",)
        if api in _IDENTITY_APIS:
            return ("identity_delete",)
    return ()


def derive(method_id: str, http: str) -> Verdict:
    parts = method_id.lower().split(".")
    verb = method_id.split(".")[-1]
    collection = parts[-2] if len(parts) > 1 else ""
    effect = effect_of(http, verb)
    return effect, categories_of(parts[0], collection, effect)


def _methods(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (resource.get("methods") or {}).values()
    for child in (resource.get("resources") or {}).values():
        yield from _methods(child)


def build(documents: str | None = None) -> dict[str, Any]:
    """The table from the Discovery documents (google-api-python-client's, by default)."""
    if documents is None:
        import googleapiclient

        package = Path(googleapiclient.__file__).parent
        documents = str(next(package.glob("discovery*/documents")))  # discovery_cache/
        origin = f"google-api-python-client {_version()}"
    else:
        origin = documents
    apis: dict[str, dict[str, Verdict]] = {}
    for path in sorted(glob.glob(os.path.join(documents, "*.*.json"))):
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
        for method in _methods(document):
            api, _, rest = method["id"].partition(".")
            verdict = derive(method["id"], method["httpMethod"])
            known = apis.setdefault(api, {}).get(rest)
            if known is None or (verdict[1] and not known[1]):  # versions differ: keep the worse
                apis[api][rest] = verdict
    return {"generator": origin, "apis": apis}


def _version() -> str:
    from importlib.metadata import version

    return version("google-api-python-client")


def dumps(table: dict[str, Any]) -> str:
    """One method a line, so a regenerated table diffs verdict by verdict."""
    lines = ["{", f'"generator": {json.dumps(table["generator"])},', '"apis": {']
    apis = sorted(table["apis"].items())
    for a_index, (api, methods) in enumerate(apis):
        lines.append(f"{json.dumps(api)}: {{")
        items = sorted(methods.items())
        for m_index, (rest, (effect, categories)) in enumerate(items):
            value = json.dumps([effect, list(categories)] if categories else effect)
            lines.append(
                f"  {json.dumps(rest)}: {value}" + ("," if m_index < len(items) - 1 else "")
            )
        lines.append("}" + ("," if a_index < len(apis) - 1 else ""))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=1)
def load() -> dict[str, dict[str, Verdict]]:
    """{api: {rest of the method id: (effect, categories)}} from the checked-in table."""
    apis = json.loads(TABLE.read_text(encoding="utf-8"))["apis"]
    return {
        api: {
            rest: (v, ()) if isinstance(v, str) else (v[0], tuple(v[1]))
            for rest, v in methods.items()
        }
        for api, methods in apis.items()
    }


if __name__ == "__main__":
    sys.stdout.write(dumps(build(sys.argv[1] if len(sys.argv) > 1 else None)))
