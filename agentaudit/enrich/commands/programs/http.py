"""HTTP clients (curl, wget, httpie, xh): DELETE calls, destructive GraphQL mutations and
destructive API paths, with the provider named when the host is a known control plane."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import urlsplit

from agentaudit.enrich.catalog import providers
from agentaudit.enrich.commands import packs
from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context

_DESTROY_WORD = r"(delete|destroy|remove|purge|wipe|drop|truncate|terminate|erase|reset|clear|flush|revoke|uninstall|archive|disable|detach|deregister|unpublish|cancel)"
_MUTATION = re.compile(
    r"\bmutation\b[^{]*\{\s*(?:\w+\s*:\s*)?(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<args>[^)]*)\))?"
)
_DESTRUCTIVE_MUTATION = re.compile(rf"(?i){_DESTROY_WORD}")
_DESTRUCTIVE_PATH = re.compile(
    rf"(?i)/(_delete_by_query|_close|_flush|_forcemerge|_shrink|[\w-]*{_DESTROY_WORD}[\w-]*)(/|\?|$)"
)
# cluster-wide admin endpoints (Elasticsearch/OpenSearch): one write changes every node
_CLUSTER_ADMIN_PATH = re.compile(
    r"(?i)/(_cluster/(settings|reroute|voting_config_exclusions)|_snapshot/[^/]+/[^/]+/_restore|"
    r"_nodes/([^/]+/)?_shutdown)(/|\?|$)"
)
_ARG_VALUE = re.compile(r"\w+\s*:\s*\\?\"(?P<v>[^\"\\]+)\\?\"")
_DATA_FLAGS = ("-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--json", "-F",
               "--form", "--body-data", "--post-data", "--raw")  # fmt: skip
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _flag_values(argv: list[str], names: tuple[str, ...]) -> list[str]:
    values = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                values.append(argv[i + 1])
            elif name.startswith("--") and arg.startswith(name + "="):
                values.append(arg.split("=", 1)[1])
            elif (
                len(name) == 2
                and arg.startswith(name)
                and len(arg) > 2
                and not arg.startswith("--")
            ):
                values.append(arg[2:])
    return values


def graphql_mutation(body: str) -> tuple[str | None, str | None]:
    query = body
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("query"), str):
            query = parsed["query"]
    except (json.JSONDecodeError, ValueError):
        pass
    match = _MUTATION.search(query)
    if not match:
        return None, None
    value = _ARG_VALUE.search(match.group("args") or "")
    return match.group("name"), value.group("v") if value else None


def http_client(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    argv = cmd.argv
    if "--help" in argv or "--version" in argv:
        return []
    url = next((a for a in argv[1:] if re.match(r"^(https?://|:\d|localhost[:/])", a)), None)
    url = url or next((a for a in argv[1:] if re.match(r"^[\w.-]+\.[a-z]{2,}(:\d+)?/", a)), None)
    method = None
    explicit = _flag_values(argv, ("-X", "--request", "--method"))
    if explicit:
        method = explicit[-1].upper()
    elif cmd.program in ("http", "https", "xh", "xhs") and len(argv) > 1:
        positional = [a for a in argv[1:] if not a.startswith("-")]
        if positional and positional[0].upper() in _METHODS:
            method = positional[0].upper()
    bodies = _flag_values(argv, _DATA_FLAGS)
    method = method or ("POST" if bodies else "GET")
    return request_findings(method, url, bodies)


def request_findings(
    method: str, url: str | None, bodies: list[str], provider: str | None = None
) -> list[Finding]:
    """What one HTTP request destroys: a DELETE, a destructive GraphQL mutation or endpoint.

    Shared by curl/wget, `gh api` and HTTP calls written as code (python -c, node -e)."""
    method = method.upper()
    host = (
        urlsplit(url if "://" in (url or "") else f"http://{url}").hostname if url else None
    ) or ""
    provider = provider_of_host(host) or provider
    findings: list[Finding] = []
    for body in bodies:
        mutation, target = graphql_mutation(body)
        if not mutation:
            continue
        categories = providers.classify_mutation(provider, mutation)
        if categories or _DESTRUCTIVE_MUTATION.search(mutation):
            categories = categories or ["cloud_delete"]
            severity = "critical" if "backup_destroy" in categories else "high"
            for category in categories:
                findings.append(
                    Finding(f"http.graphql-{mutation}", category, severity,
                            f"GraphQL mutation {mutation} sent to {host or 'an API'}",
                            operation=f"{provider or 'graphql'}.graphql:{mutation}", target=target,
                            scope="remote", url=url, provider=provider)
                )  # fmt: skip
    if findings:
        return findings
    path = urlsplit(url if "://" in (url or "") else f"http://{url}").path if url else ""
    if method == "DELETE":
        severity = "high" if provider else "medium"
        findings.append(
            Finding("http.delete", "cloud_delete", severity,
                    f"HTTP DELETE {path or url} on {host or 'a server'}", operation="http DELETE",
                    target=path or url, scope="remote", url=url, provider=provider)
        )  # fmt: skip
    elif method in ("POST", "PUT", "PATCH") and _DESTRUCTIVE_PATH.search(path or ""):
        findings.append(
            Finding("http.destructive-path", "cloud_delete", "medium",
                    f"HTTP {method} to destructive endpoint {path}", operation=f"http {method}",
                    target=path, scope="remote", url=url, provider=provider)
        )  # fmt: skip
    elif method in ("POST", "PUT", "PATCH") and _CLUSTER_ADMIN_PATH.search(path or ""):
        findings.append(
            Finding("http.cluster-admin", "service_disrupt", "medium",
                    f"HTTP {method} to cluster admin endpoint {path}: changes or restores "
                    "the whole cluster (allocation, settings, indices)",
                    operation=f"http {method}", target=path, scope="remote", url=url,
                    provider=provider)
        )  # fmt: skip
    return findings


def provider_of_host(host: str) -> str | None:
    return providers.provider_of_host(host)


_API_HOSTS = {"gh": ("api.github.com", "github"), "glab": ("gitlab.com", "gitlab")}


def forge_api(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`gh api` / `glab api`: REST paths and GraphQL, the method from -X or implied by fields."""
    inv = invocation(cmd.program, cmd.argv[1:])
    if inv.words[:1] != ("api",) or len(inv.words) < 2:
        return []
    endpoint = inv.words[1]
    fields = inv.all_values("-f", "--raw-field", "-F", "--field")
    method = inv.value("-X", "--method") or ("POST" if fields or inv.has("--input") else "GET")
    host, provider = _API_HOSTS[cmd.program]
    hostname = inv.value("--hostname") or host
    bodies = [f.split("=", 1)[1] for f in fields if f.startswith("query=")]
    url = endpoint if "://" in endpoint else f"https://{hostname}/{endpoint.lstrip('/')}"
    return request_findings(method, url, bodies, provider)


def forge_cli(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    if invocation(cmd.program, cmd.argv[1:]).words[:1] == ("api",):
        return forge_api(cmd, ctx)
    return [replace(f, provider=_API_HOSTS[cmd.program][1]) for f in packs.match(cmd)]


PROGRAMS = {"gh": forge_cli, "glab": forge_cli} | {
    name: http_client for name in ("curl", "wget", "http", "https", "xh", "xhs", "httpie")
}
