"""Local and test targets: the same destructive shape against this machine or a test setup.

A database on localhost or named `*_test`/`test_*`, `RAILS_ENV=test`, `--env=testing`, a
kind/minikube/k3d/docker-desktop context, LocalStack (`awslocal`, `tflocal`, an endpoint on
localhost), `--local`, the Azurite emulator, `localhost` HTTP APIs. Such a command is rated
low rather than medium or more (issue 15); whether the session shows it points at something
real after all is the session analysis's business (issue 17). Deleting files, history or
audit trails is judged by its path, never by this.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands.argv import Invocation

# categories whose target is a service (a database, a cluster, a cloud account), not a path
RESOURCE_CATEGORIES = frozenset(
    {"db_destroy", "cloud_delete", "k8s_delete", "infra_destroy", "backup_destroy",
     "container_delete", "service_disrupt", "data_overwrite", "config_delete"}
)  # fmt: skip
_LOCAL_PROGRAMS = {"awslocal", "tflocal", "cdklocal", "samlocal", "kind", "minikube", "k3d",
                   "azurite", "firebase-emulators"}  # fmt: skip
_LOCAL_HOST = re.compile(
    r"(?i)(^|[/@=:\s\"'(])(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?|0\.0\.0\.0|host\.docker\.internal|"
    r"localstack|[\w-]+\.localhost)(?=$|[:/\s\"',)?])"
)
_LOCAL_CONTEXT = re.compile(
    r"(?i)^(kind-[\w.-]+|kind|minikube|k3d-[\w.-]+|docker-desktop|docker-for-desktop|"
    r"rancher-desktop|colima|orbstack|microk8s|k3s-default)$"
)
_TEST_NAME = re.compile(r"(?i)(^|[/:._-])test(ing)?([._-]|$)|(^|\W)(test_\w+|\w+_test)($|\W)")
_TEST_ENV = {"test", "testing"}
_ENV_VARS = ("RAILS_ENV", "RACK_ENV", "MIX_ENV", "NODE_ENV", "APP_ENV", "DJANGO_ENV",
             "FLASK_ENV", "ENV", "ENVIRONMENT", "STAGE", "APP_ENVIRONMENT")  # fmt: skip
_ENV_OPTIONS = ("--env", "-e", "--environment", "--stage", "-E")
_CONTEXT_OPTIONS = ("--context", "--kube-context", "--cluster")
_HOST_OPTIONS = ("-h", "--host", "--endpoint-url", "--endpoint", "--url", "--db-url", "--uri",
                 "-H", "--server", "--address", "-address", "--connection-string")  # fmt: skip
_DB_OPTIONS = ("-d", "--dbname", "--database", "--db", "-D")


def local_target(inv: Invocation, env: dict[str, str]) -> str | None:
    """Why the command's target is local or a test setup, or None."""
    if inv.program in _LOCAL_PROGRAMS:
        return f"{inv.program} works on this machine"
    # `rails db:drop RAILS_ENV=test`: rake and rails read NAME=value arguments as environment
    env = {**env, **dict(w.split("=", 1) for w in inv.words if re.match(r"^[A-Z_]+=", w))}
    for name in _ENV_VARS:
        if env.get(name, "").lower() in _TEST_ENV:
            return f"{name}={env[name]}"
    for value in inv.all_values(*_ENV_OPTIONS):
        if value.lower() in _TEST_ENV:
            return f"environment {value}"
    compose_files = (
        inv.all_values("-f", "--file") if "compose" in (inv.program, *inv.words[:1]) else []
    )
    if compose_files and all(_TEST_NAME.search(f.rsplit("/", 1)[-1]) for f in compose_files):
        return f"test compose file {compose_files[0]}"
    settings = inv.value("--settings")
    if settings and re.search(r"(?i)[._](test|testing|tests)$", settings):
        return f"settings {settings}"
    context = inv.value(*_CONTEXT_OPTIONS)
    if context and _LOCAL_CONTEXT.match(context):
        return f"context {context} is a cluster on this machine"
    for value in [*inv.all_values(*_HOST_OPTIONS), *env.values()]:
        if _LOCAL_HOST.search(value) or "UseDevelopmentStorage=true" in value:
            return f"{value} is this machine"
    if inv.has("--local") and not inv.has("--remote", "--linked"):
        return "--local"
    if inv.program == "supabase" and inv.words[:1] in (("stop",), ("start",), ("status",)):
        return "the local Supabase stack"
    if inv.program == "turso" and inv.words[:1] == ("dev",):
        return "turso dev (a local server)"
    for word in inv.words[:6]:
        if "://" in word and _LOCAL_HOST.search(word) and _local_http(word):
            return f"{word} is this machine"
    statements = inv.all_values("-c", "--command", "-e", "--execute", "--eval")
    if statements and all(sql_names_test_only(v) for v in statements):
        return "only test databases are named"
    names = [w for w in inv.words if w not in ("drop", "create")]
    test_only = bool(names) and all(_TEST_NAME.search(w) for w in names)
    if inv.program in ("dropdb", "createdb", "mysqladmin") and test_only:
        return f"test database {names[-1]}"
    if inv.program in ("sqlite3", "sqlite", "duckdb") and inv.words:
        # the database is the first operand, a file: `sqlite3 test.db 'DELETE FROM t'`
        stem = inv.words[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if inv.words[0] == ":memory:" or _TEST_NAME.search(stem) or stem == "test":
            return f"test database file {inv.words[0]}"
    databases = inv.all_values(*_DB_OPTIONS)
    if databases and all(_TEST_NAME.search(d) for d in databases):
        return f"test database {databases[0]}"
    return None


# Data stores people reach on localhost through `kubectl port-forward` or `ssh -L` as often as
# they run them locally (Elasticsearch/OpenSearch, Meilisearch, Prometheus, InfluxDB, CouchDB,
# Solr, Qdrant, Typesense, ClickHouse, Neo4j, ArangoDB, Milvus): local only when the resource
# is named as a test one. An app's own dev server on localhost is local.
_DATA_STORE_PORTS = {"9200", "9201", "7700", "9090", "8086", "5984", "8983", "6333", "8108",
                     "8123", "7474", "8529", "19530", "9600"}  # fmt: skip


def _local_http(url: str) -> bool:
    port = re.search(r"://[^/:]+:(\d+)", url)
    if port and port.group(1) in _DATA_STORE_PORTS:
        path = url.split("://", 1)[1].partition("/")[2]
        return bool(_TEST_NAME.search(path.split("?")[0]))
    return True


def sql_names_test_only(text: str) -> bool:
    """`DROP DATABASE app_test`: every database or schema the statement names is a test one."""
    names = re.findall(
        r"(?i)\bdrop\s+(?:database|schema)\s+(?:if\s+exists\s+)?[`\"]?([\w-]+)", text
    )
    return bool(names) and all(_TEST_NAME.search(n) for n in names)
