"""`agentaudit hooks install|uninstall`: a round trip per agent on the settings files of
tests/data/agents/hook-settings (before, install, uninstall equals before; install twice
changes nothing), the user's other settings kept, the CLI end to end, and the installed guard
entries run as the agent runs them."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from agentaudit.receivers.hook_install import AGENTS, apply, plan_install, plan_uninstall

SETTINGS = Path(__file__).resolve().parents[2] / "tests/data/agents/hook-settings"
CASES = [
    ("claude-code", "claude-code/user-settings.before.json", "settings.json"),
    ("claude-code", "claude-code/project-settings.before.json", "settings.json"),
    ("claude-code", "claude-code/schemastore-hooks-complete.settings.json", "settings.json"),
    ("codex", "codex/user-hooks.before.json", "hooks.json"),
    ("codex", "codex/schemastore-hooks.json", "hooks.json"),
    ("codex", "codex/config.before.toml", "config.toml"),
    ("gemini", "gemini-cli/user-settings.before.json", "settings.json"),
    ("cursor", "cursor/user-hooks.before.json", "hooks.json"),
    ("copilot", "copilot-cli/user-settings.before.json", "settings.json"),
    ("copilot", "copilot-cli/repo-github-hooks.before.json", "agentaudit.json"),
    ("windsurf", "windsurf/user-hooks.before.json", "hooks.json"),
]


def load(path: Path):
    text = path.read_text()
    return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)


def commands(value) -> list[str]:
    text = json.dumps(value)
    return [c for c in ("agentaudit-hook", "agentaudit-guard") if c in text]


@pytest.mark.parametrize(("agent", "fixture", "name"), CASES)
def test_round_trip(tmp_path, agent, fixture, name):
    before = (SETTINGS / fixture).read_bytes()
    path = tmp_path / name
    path.write_bytes(before)
    install = plan_install(agent, path)
    assert install.changed
    apply(install)
    installed = load(path)
    original = load(SETTINGS / fixture)
    for key, value in original.items():  # the user's settings are all there
        if key != "hooks":
            assert installed[key] == value, key
    for event, groups in (original.get("hooks") or {}).items():
        for group in groups:  # and every hook the user had
            assert group in installed["hooks"][event], (event, group)
    assert "agentaudit-hook" in commands(installed)
    expect_guard = agent in ("claude-code", "codex", "cursor")
    assert ("agentaudit-guard" in commands(installed)) == expect_guard
    assert not plan_install(agent, path).changed  # twice: nothing more
    apply(plan_uninstall(agent, path))
    assert path.read_bytes() == before


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_a_new_file_is_created_and_removed_again(tmp_path, agent):
    path = tmp_path / "deep" / "hooks.json"
    apply(plan_install(agent, path))
    events = json.loads(path.read_text())["hooks"]
    assert set(AGENTS[agent].events) <= set(events)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    apply(plan_uninstall(agent, path))
    assert not path.exists()


def test_uninstall_keeps_what_the_user_changed_since(tmp_path):
    path = tmp_path / "settings.json"
    shutil.copyfile(SETTINGS / "claude-code/user-settings.before.json", path)
    apply(plan_install("claude-code", path))
    edited = json.loads(path.read_text())
    edited["model"] = "sonnet"
    path.write_text(json.dumps(edited, indent=2) + "\n")
    apply(plan_uninstall("claude-code", path))
    after = json.loads(path.read_text())
    assert after["model"] == "sonnet" and "agentaudit" not in path.read_text()
    assert (
        after["hooks"]
        == json.loads((SETTINGS / "claude-code/user-settings.before.json").read_text())["hooks"]
    )


def test_copilot_hooks_name_their_event_for_the_recorder(tmp_path):
    path = tmp_path / "agentaudit.json"
    apply(plan_install("copilot", path))
    hooks = json.loads(path.read_text())
    assert hooks["version"] == 1
    (entry,) = hooks["hooks"]["preToolUse"]
    assert (
        entry["bash"].endswith("agentaudit-hook copilot preToolUse") and entry["timeoutSec"] == 10
    )


def test_cli_dry_run_project_and_a_broken_file(tmp_path):
    cli = str(Path(sys.executable).parent / "agentaudit")
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
        "AGENTAUDIT_HOME": str(tmp_path / "aa"),
    }
    project = tmp_path / "project"
    project.mkdir()
    dry = subprocess.run([cli, "hooks", "install", "windsurf", "--project", "--dry-run"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert dry.returncode == 0 and '+    "pre_run_command": [' in dry.stdout
    assert not (project / ".windsurf").exists()
    done = subprocess.run([cli, "hooks", "install", "windsurf", "--project"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and (project / ".windsurf/hooks.json").exists()
    broken = project / ".cursor/hooks.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    bad = subprocess.run([cli, "hooks", "install", "cursor", "--project"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr + bad.stdout
    assert "not valid JSON" in bad.stderr + bad.stdout and broken.read_text() == "{not json"


def test_no_copy_of_a_plainly_laid_out_file_is_kept(tmp_path, isolated_home):
    memory = isolated_home / "hook-install"
    path = tmp_path / "settings.json"
    shutil.copyfile(SETTINGS / "claude-code/user-settings.before.json", path)
    apply(plan_install("claude-code", path))
    assert list(memory.glob("*.json")) == []  # its env values are not copied anywhere
    compact = tmp_path / "compact.json"
    shutil.copyfile(SETTINGS / "claude-code/schemastore-hooks-complete.settings.json", compact)
    apply(plan_install("claude-code", compact))
    assert len(list(memory.glob("*.json"))) == 1  # only the compactly laid out one


def test_cli_json_says_what_was_written_and_what_went(tmp_path):
    from typer.testing import CliRunner

    from agentaudit.cli import app

    path = tmp_path / "settings.json"
    shutil.copyfile(SETTINGS / "gemini-cli/user-settings.before.json", path)
    before = path.read_text()
    runner = CliRunner()

    def run(*args: str) -> dict:
        result = runner.invoke(app, ["hooks", *args, "gemini", "--file", str(path), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    planned = run("install", "--dry-run")
    assert (planned["changed"], planned["written"]) == (True, False) and planned["diff"]
    assert path.read_text() == before
    done = run("install")
    assert (done["changed"], done["written"], done["file"]) == (True, True, str(path))
    assert run("install")["changed"] is False  # twice changes nothing
    gone = run("uninstall")
    assert (gone["written"], gone["removed"]) == (True, False)  # the user's file stays
    assert path.read_text() == before


POCKETOS_CURL = (
    "curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer x' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"3d2c42fb\\") }"}\''
)


def guard_payload(agent: str, command: str) -> dict:
    """A pre-execution payload as each agent documents it (Cursor's beforeShellExecution has
    no tool name; Claude Code's and Codex's PreToolUse carry the Bash tool's input)."""
    if agent == "cursor":
        return {"hook_event_name": "beforeShellExecution", "command": command, "cwd": "/w",
                "conversation_id": "c1", "generation_id": "g1"}  # fmt: skip
    return {"hook_event_name": "PreToolUse", "session_id": "s1", "cwd": "/w",
            "transcript_path": "/t.jsonl", "tool_name": "Bash",
            "tool_input": {"command": command}, "tool_use_id": "toolu_1"}  # fmt: skip


def strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def decision(agent: str, stdout: str) -> str:
    if not stdout.strip():
        return "allow"  # no opinion: the agent's own permission rules apply
    answer = json.loads(stdout)
    return (
        answer["permission"]
        if agent == "cursor"
        else answer["hookSpecificOutput"]["permissionDecision"]
    )


@pytest.mark.parametrize("agent", ["claude-code", "codex", "cursor"])
def test_the_installed_guard_command_stops_the_pocketos_curl(tmp_path, isolated_home, agent):
    """The guard entry `hooks install` writes, run as the agent runs it (its command line,
    the payload on stdin): the Railway volume delete is not let through; `ls` is."""
    path = tmp_path / "settings.json"
    apply(plan_install(agent, path))
    (guard,) = {text for text in strings(load(path)) if "agentaudit-guard" in text}

    def run(command: str) -> str:
        payload = json.dumps(guard_payload(agent, command))
        done = subprocess.run(shlex.split(guard), input=payload, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return decision(agent, done.stdout)

    assert run(POCKETOS_CURL) in ("ask", "deny")
    assert run("ls -la") == "allow"
