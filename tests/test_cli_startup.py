"""A CLI that starts quickly and fails clearly.

`--help`, `--version` and `hook` import none of the heavy libraries (checked in `sys.modules`
of a fresh process, not timed: bench/cli_startup.py measures the time); every command has an
example and --json; a user's bad input or configuration ends in one line, not a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from agentaudit.cli import app, main

HEAVY = ("sklearn", "skops", "pandas", "pyarrow", "sigma", "apprise", "streamlit")
# stdout is the agent's hook protocol (guard) or nothing at all (hook): no --json for them
NO_JSON = {("hook",), ("guard",)}

PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["agentaudit", *sys.argv[1:]]
from agentaudit.cli import main
main()
"""

EVERY_HELP = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from agentaudit.cli import app

def paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, (*prefix, name))

runner = CliRunner()
for path in paths(get_command(app)):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
print(json.dumps(sorted(sys.modules)))
"""


def top_level(modules: list[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def run_probe(*args: str, stdin: bytes = b"") -> tuple[subprocess.CompletedProcess, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], input=stdin, capture_output=True, timeout=300
    )
    marker = [line for line in proc.stderr.decode().splitlines() if line.startswith("MODULES ")]
    assert marker, proc.stderr.decode()[-2000:]
    return proc, top_level(json.loads(marker[-1].removeprefix("MODULES ")))


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(args):
    proc, modules = run_probe(*args)
    assert proc.returncode == 0, proc.stderr.decode()
    assert sorted(modules & {*HEAVY, "duckdb", "agentaudit.store"}) == []


def test_the_hook_through_the_cli_imports_nothing_heavy(isolated_home):
    payload = {"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": "npm test"}}  # fmt: skip
    proc, modules = run_probe("hook", "claude-code", stdin=json.dumps(payload).encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert sorted(modules & {*HEAVY, "duckdb"}) == []
    logged = list((isolated_home / "hooks").rglob("*"))
    assert any(p.is_file() and "npm test" in p.read_text() for p in logged), logged  # it ran


def test_every_commands_help_imports_nothing_heavy():
    proc = subprocess.run(
        [sys.executable, "-c", EVERY_HELP], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(top_level(json.loads(proc.stdout.splitlines()[-1])) & set(HEAVY)) == []


def commands(command, path: tuple[str, ...] = ()):
    if hasattr(command, "commands"):  # a group (typer's own click, not necessarily `click`)
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))
    else:
        yield path, command


ALL = list(commands(typer.main.get_command(app)))


def test_there_are_commands_to_check():
    names = {" ".join(path) for path, _ in ALL}
    assert {"ingest", "detect", "demo", "hook", "alert run", "incidents show"} <= names


@pytest.mark.parametrize("path,command", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_an_example_and_json(path, command):
    assert command.epilog and "$ agentaudit" in command.epilog, "no example in its help"
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert ("--json" in options) == (path not in NO_JSON)


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"agentaudit {version('agentaudit')} (duckdb ")


def test_constants_copied_for_a_light_help_match_their_modules():
    from agentaudit.cli import exporting, model, pull
    from agentaudit.detect.anomaly import forest
    from agentaudit.export import hec
    from agentaudit.receivers.pull import railway

    assert model.DEFAULT_CONTAMINATION == forest.DEFAULT_CONTAMINATION
    assert exporting.TOKEN_ENV == hec.TOKEN_ENV
    assert (pull.ENDPOINT, pull.TOKEN_ENV, pull.PAGE_SIZE) == (
        railway.ENDPOINT,
        railway.TOKEN_ENV,
        railway.PAGE_SIZE,
    )


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """The installed entry point in this process: exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["agentaudit", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return stopped.value.code, capsys.readouterr().err


@pytest.fixture
def broken_yaml(tmp_path) -> Path:
    path = tmp_path / "broken.yml"
    path.write_text("route:\n  receiver: [pager\n  group_by: x\n", encoding="utf-8")
    return path


@pytest.fixture
def not_a_store(tmp_path) -> Path:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n", encoding="utf-8")
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_broken_yaml_configs_are_one_line(monkeypatch, capsys, broken_yaml, tmp_path):
    code, err = run_main(monkeypatch, capsys, "alert", "run", "--config", str(broken_yaml),
                         "--db", str(tmp_path / "s.duckdb"))  # fmt: skip
    assert code == 2
    # alerting.yml is read by the alert config loader: file:line, as its other errors (issue 20)
    assert one_line(err).startswith(f"error: {broken_yaml}:3: YAML syntax error")
    code, err = run_main(monkeypatch, capsys, "watch", "--config", str(broken_yaml))
    assert code == 2
    assert "invalid YAML, line 3" in one_line(err)


def test_missing_files_are_one_line(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "nowhere.jsonl"
    code, err = run_main(monkeypatch, capsys, "eval", "commands", str(missing))
    assert code == 2
    assert one_line(err) == f"error: No such file or directory: {missing}"
    code, err = run_main(monkeypatch, capsys, "alert", "run", "--config", str(missing))
    assert code == 2
    assert str(missing) in one_line(err)


def test_a_store_that_is_not_duckdb_is_one_line(monkeypatch, capsys, not_a_store):
    for args in (["query", "SELECT 1"], ["incidents", "list"], ["detect"]):
        code, err = run_main(monkeypatch, capsys, *args, "--db", str(not_a_store))
        assert code == 2, args
        assert "not a valid DuckDB database file" in one_line(err)


def test_debug_shows_the_traceback(monkeypatch, capsys, not_a_store):
    monkeypatch.setenv("AGENTAUDIT_DEBUG", "1")
    monkeypatch.setattr(sys, "argv", ["agentaudit", "query", "SELECT 1", "--db", str(not_a_store)])
    with pytest.raises(duckdb.IOException):
        main()


def test_a_bug_keeps_its_traceback(monkeypatch):
    import agentaudit.collectors

    def broken():
        raise RuntimeError("a bug in a collector registry")

    monkeypatch.setattr(agentaudit.collectors, "all_collectors", broken)
    monkeypatch.setattr(sys, "argv", ["agentaudit", "sources"])
    with pytest.raises(RuntimeError, match="a bug"):
        main()


def test_a_missing_extra_is_named(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "streamlit" else real(name)
    )
    code, err = run_main(monkeypatch, capsys, "dashboard")
    assert code == 2
    assert "pip install 'agentaudit[dashboard]'" in one_line(err)


def test_the_dashboard_needs_a_token_beyond_loopback(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("AGENTAUDIT_DASHBOARD_TOKEN", raising=False)
    code, err = run_main(monkeypatch, capsys, "dashboard", "--address", "0.0.0.0",
                         "--db", str(tmp_path / "s.duckdb"))  # fmt: skip
    assert code == 2
    assert "without a token" in one_line(err)


def test_installed_entry_point_runs(isolated_home):
    """The console script itself (what pip installs) answers --version."""
    script = Path(sys.executable).with_name("agentaudit")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                          timeout=120, env={**os.environ})  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.startswith("agentaudit "), proc.stderr


def test_a_missing_rule_directory_is_an_error(tmp_path):
    result = CliRunner().invoke(app, ["rules", "test", "--dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no such rule directory" in result.output
