"""agentaudit's import graph, read statically with `ast`: module-level and function-level imports.

Hand-written rather than grimp/import-linter: they do not follow the collectors/ and dashboards/
symlinks, and the rules need to know which function an import stands in.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "agentaudit"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Import:
    name: str  # absolute dotted name as written (relative imports resolved)
    line: int
    function: str | None  # the enclosing function, None at module level
    target: str | None  # the agentaudit module it loads, None for anything else


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    imports: list[Import] = field(default_factory=list)

    @property
    def internal(self) -> set[str]:
        return {i.target for i in self.imports if i.target and i.target != self.name}

    def __str__(self) -> str:
        return str(self.path.relative_to(REPO))


def is_shipped(path: Path) -> bool:
    """Test modules sit beside the code but are not in the wheel, so not in the graph."""
    return not (path.name.startswith("test_") or path.name == "conftest.py")


def module_paths(root: Path = REPO / PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package), following the collectors/dashboards symlinks."""
    found: dict[str, tuple[Path, bool]] = {}
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = Path(folder) / name
            if not name.endswith(".py") or not is_shipped(path):
                continue
            parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST):
    """(import statement, enclosing function) pairs; `if TYPE_CHECKING:` blocks never run."""
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, function) for child in node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, function
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name if function is None else f"{function}.{node.name}"
        stack.extend((child, function) for child in ast.iter_child_nodes(node))


def _written_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known):
    """The dotted names a statement imports. `from x import y` imports x.y when y is a
    submodule (x is then only its implicit parent) and x when y is a name defined in x."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    members = [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    submodules = [name for name in members if name in known]
    return submodules + ([base] if len(submodules) < len(members) or not members else [])


def _deepest_module(name: str, known: set[str]) -> str | None:
    """The module an import really loads: `a.b.c` if it is one, else the nearest parent.

    Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`; those implicit parent edges are
    left out, else every submodule would "import" its own package and every package its parent.
    """
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def build(root: Path = REPO / PACKAGE) -> dict[str, Module]:
    paths = module_paths(root)
    known = set(paths)
    graph: dict[str, Module] = {}
    for name, (path, is_package) in paths.items():
        module = Module(name, path, is_package)
        for node, function in _statements(ast.parse(path.read_text(), filename=str(path))):
            for written in _written_names(node, name, is_package, known):
                target = _deepest_module(written, known)
                module.imports.append(Import(written, node.lineno, function, target))
        graph[name] = module
    return graph


def reachable(graph: dict[str, Module], start: str, follow=lambda imp: True) -> set[str]:
    """Modules reachable from `start` along the imports `follow` accepts."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for imp in graph[todo.pop()].imports:
            if imp.target and imp.target not in seen and follow(imp):
                seen.add(imp.target)
                todo.append(imp.target)
    return seen


def cycles(graph: dict[str, Module]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (a few hundred
    modules: reachability from each is cheap and plainer than Tarjan's algorithm)."""
    reach = {name: reachable(graph, name) for name in graph}
    groups = {
        tuple(sorted({name} | {other for other in reach[name] if name in reach[other]}))
        for name in graph
        if name in reach[name]
    }
    return sorted(list(group) for group in groups)


def parents(name: str) -> list[str]:
    """The packages importing `name` runs first: a, a.b for a.b.c."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def is_standard_library(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names
