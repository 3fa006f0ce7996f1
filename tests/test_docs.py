"""What the docs promise exists (after datasette's tests/test_docs.py): one test per item.

- every module or folder docs/ARCHITECTURE.md names is in the repository;
- its `events` table is the schema in agentaudit/schema.py (column, type, meaning);
- every `AGENTAUDIT_*` variable the code reads is documented in README.md or docs/*.md;
- every command of the `agentaudit` CLI appears in README.md.
"""

from __future__ import annotations

import re

import pytest

from tests.import_graph import PACKAGE, REPO, module_paths

ARCHITECTURE = (REPO / "docs" / "ARCHITECTURE.md").read_text()
README = (REPO / "README.md").read_text()
DOCS = README + "".join(path.read_text() for path in sorted((REPO / "docs").glob("*.md")))

TOP_LEVEL = ("agentaudit/", "collectors/", "dashboards/", "notebooks/", "tests/", "bench/", "docs/")
# a path inside backticks: dirs/with/slashes/, or a file with an extension we ship
_PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)*(?:/|\.(?:py|yaml|yml|ipynb|md))")
_CODE = re.compile(r"`([^`\n]+)`")


def repository_files() -> list[str]:
    """Every file and folder under the repository's code folders, as posix paths from REPO."""
    names = {
        str(path.relative_to(REPO).as_posix())
        for path, _ in module_paths().values()  # agentaudit/, through the symlinks
    }
    for folder in ("agentaudit", "collectors", "dashboards", "notebooks", "tests", "bench", "docs"):
        for path in (REPO / folder).rglob("*"):
            if "__pycache__" not in path.parts and "data" not in path.relative_to(REPO).parts[:2]:
                names.add(path.relative_to(REPO).as_posix() + ("/" if path.is_dir() else ""))
    names |= {name.rsplit("/", 1)[0] + "/" for name in list(names) if "/" in name.rstrip("/")}
    return sorted(names)


def named_paths(markdown: str) -> list[tuple[str, str]]:
    """(path, the folder it is relative to) for each module or folder named in backticks.

    A path from a top-level folder (`agentaudit/store/views.py`) stands alone. In a table row,
    a bare name (`service.py`, `commands/parse.py`) is read in the folder of the nearest such
    path before it; elsewhere it must exist somewhere (the section names its package in prose).
    """
    found = []
    for line in markdown.splitlines():
        in_row = line.lstrip().startswith("|")
        folder = ""
        for span in (m.group(1) for m in _CODE.finditer(line)):
            if not _PATH.fullmatch(span) or span.startswith("."):
                continue
            if span.startswith(TOP_LEVEL):
                found.append((span, ""))
                if in_row:
                    folder = span if span.endswith("/") else span.rsplit("/", 1)[0] + "/"
            elif span.endswith(".py") or (folder and span.endswith("/")):
                found.append((span, folder))
    return sorted(set(found))


FILES = repository_files()


def exists(path: str, folder: str) -> bool:
    if path.startswith(TOP_LEVEL):  # (data folders are not listed: looked up on disk)
        return path in FILES or (REPO / path).exists()
    if folder:
        return folder + path in FILES
    return any(name.endswith("/" + path) for name in FILES)


@pytest.mark.parametrize(("path", "folder"), named_paths(ARCHITECTURE))
def test_every_module_docs_architecture_names_exists(path, folder):
    where = f" (read under {folder})" if folder else ""
    assert exists(path, folder), (
        f"docs/ARCHITECTURE.md names `{path}`{where}: not in the repository"
    )


def dotted_names(markdown: str) -> list[str]:
    return sorted({m.group(1) for m in re.finditer(rf"`({PACKAGE}(?:\.\w+)+)`", markdown)})


@pytest.mark.parametrize("dotted", dotted_names(ARCHITECTURE))
def test_every_dotted_name_docs_architecture_uses_exists(dotted):
    import importlib

    modules = module_paths()
    parts = dotted.split(".")
    split = max(i for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in modules)
    value = importlib.import_module(".".join(parts[:split]))
    for attribute in parts[split:]:
        assert hasattr(value, attribute), f"docs/ARCHITECTURE.md names `{dotted}`: no {attribute}"
        value = getattr(value, attribute)


def documented_event_columns() -> list[tuple[str, str, str]]:
    section = ARCHITECTURE.split("## The canonical event (`events`)", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def test_the_events_table_is_the_schema():
    from agentaudit.schema import EVENT_COLUMNS

    expected = [(name, str(typ), meaning) for name, typ, meaning in EVENT_COLUMNS]
    assert documented_event_columns() == expected


def environment_variables() -> dict[str, str]:
    """AGENTAUDIT_* name -> first file that reads or sets it (package, bench, tests)."""
    files = [path for path, _ in module_paths().values()]
    files += sorted((REPO / "bench").glob("*.py")) + sorted((REPO / "tests").rglob("*.py"))
    files += sorted((REPO / PACKAGE).rglob("test_*.py"))
    found: dict[str, str] = {}
    for path in files:
        for name in re.findall(r"\bAGENTAUDIT_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()):
            found.setdefault(name, str(path.relative_to(REPO)))
    return found


@pytest.mark.parametrize(("variable", "where"), sorted(environment_variables().items()))
def test_every_environment_variable_is_documented(variable, where):
    assert re.search(rf"\b{variable}\b", DOCS), f"{variable} (read in {where}) is not documented"


def cli_commands() -> list[str]:
    import typer.main

    from agentaudit.cli import app

    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield " ".join(path)
            return
        for name, sub in sorted(subcommands.items()):
            if not sub.hidden:
                yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), ["agentaudit"]))


def test_the_cli_walk_finds_nested_commands():
    commands = cli_commands()
    assert "agentaudit ingest" in commands and "agentaudit rules test" in commands


@pytest.mark.parametrize("command", cli_commands())
def test_every_cli_command_is_in_the_readme(command):
    # the whole words: `agentaudit guard` is not `agentaudit guard-serve`
    assert re.search(rf"{re.escape(command)}(?![\w-])", README), f"README.md never shows {command}"


def test_the_path_reader_resolves_relative_names_in_a_row():
    row = "| `agentaudit/realtime/guard/` | `client.py` (the hook), `agentaudit/paths.py`: `x.py` |"
    assert named_paths(row) == [
        ("agentaudit/paths.py", ""),
        ("agentaudit/realtime/guard/", ""),
        ("client.py", "agentaudit/realtime/guard/"),
        ("x.py", "agentaudit/"),
    ]
    assert exists("client.py", "agentaudit/realtime/guard/")
    assert not exists("missing.py", "agentaudit/realtime/guard/")
    assert not exists("service.py", "agentaudit/enrich/")
    assert exists("collectors/base.py", "")
