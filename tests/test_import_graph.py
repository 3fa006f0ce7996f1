"""The import rules of docs/ARCHITECTURE.md ("Import rules"), checked on the code as written."""

from __future__ import annotations

import pytest

from tests import import_graph
from tests.import_graph import Import, is_standard_library

COLLECTORS = "agentaudit.collectors"
# What a collector may import besides the standard library, third-party libraries and
# agentaudit.collectors itself (its base and shared helpers).
COLLECTOR_MAY_IMPORT = {"agentaudit.schema", "agentaudit.taxonomy"}
GUARD_CLIENT = "agentaudit.realtime.guard.client"
# The client's one heavy import: with no helper listening it decides in-process (documented).
GUARD_CLIENT_FALLBACK = "in_process"


@pytest.fixture(scope="module")
def graph():
    return import_graph.build()


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(graph, importer: str, forbidden: str, *, transitive: bool = False) -> list[str]:
    """Places where a module under `importer` imports one under `forbidden`."""
    found = []
    for module in graph.values():
        if not under(module.name, importer):
            continue
        for imp in module.imports:
            if not imp.target:
                continue
            reached = {imp.target} | (
                import_graph.reachable(graph, imp.target) if transitive else set()
            )
            bad = sorted(name for name in reached if under(name, forbidden))
            if bad:
                via = "" if bad == [imp.target] else f" (through {imp.target})"
                found.append(f"{module}:{imp.line} imports {', '.join(bad)}{via}")
    return found


def test_the_graph_sees_the_whole_package(graph):
    # the symlinked folders, function-level imports and resolved relative imports all count
    assert "agentaudit.collectors.base" in graph and "agentaudit.dashboards.app" in graph
    assert not any(name.rsplit(".", 1)[-1].startswith("test_") for name in graph)
    assert any(imp.function for module in graph.values() for imp in module.imports)
    assert "agentaudit.schema" in graph["agentaudit.collectors.base"].internal


def test_no_import_cycle(graph):
    found = import_graph.cycles(graph)
    assert not found, "\n".join(" <-> ".join(group) for group in found)


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(graph):
    a, b = graph["agentaudit.schema"], graph["agentaudit.paths"]
    local = {
        "a": import_graph.Module("a", a.path, False, [Import("b", 1, None, "b")]),
        "b": import_graph.Module("b", b.path, False, [Import("a", 9, "lazy", "a")]),
        "c": import_graph.Module("c", b.path, False, [Import("a", 1, None, "a")]),
    }
    assert import_graph.cycles(local) == [["a", "b"]]


def test_collectors_import_only_the_schema_taxonomy_and_their_own_helpers(graph):
    allowed = COLLECTOR_MAY_IMPORT
    found = [
        f"{module}:{imp.line} imports {imp.target}"
        for module in graph.values()
        if under(module.name, COLLECTORS)
        for imp in module.imports
        if imp.target and not under(imp.target, COLLECTORS) and imp.target not in allowed
    ]
    assert not found, "\n".join(found)


def test_detection_never_reaches_alerting(graph):
    found = violations(graph, "agentaudit.detect", "agentaudit.alert", transitive=True)
    assert not found, "\n".join(found)


def test_export_never_reaches_alerting(graph):
    found = violations(graph, "agentaudit.export", "agentaudit.alert", transitive=True)
    assert not found, "\n".join(found)


def test_nothing_imports_the_cli(graph):
    found = [
        line
        for line in violations(graph, "agentaudit", "agentaudit.cli")
        if not line.startswith("agentaudit/cli/")
    ]
    assert not found, "\n".join(found)


def test_the_guard_hook_loads_only_the_standard_library(graph):
    """Everything `agentaudit-guard` loads (its parents' __init__ included) outside the fallback."""
    loaded, todo = set(), [GUARD_CLIENT]
    found = []
    while todo:
        name = todo.pop()
        if name in loaded:
            continue
        loaded.add(name)
        todo.extend(import_graph.parents(name))
        for imp in graph[name].imports:
            if name == GUARD_CLIENT and imp.function == GUARD_CLIENT_FALLBACK:
                continue
            if imp.target:
                todo.append(imp.target)
            elif not is_standard_library(imp.name):
                found.append(f"{graph[name]}:{imp.line} imports {imp.name}")
    assert "agentaudit.realtime.guard.locations" in loaded  # the default socket's place
    assert not found, "\n".join(found)
