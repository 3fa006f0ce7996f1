"""hook: record an agent hook payload (stdin); hooks: install our hooks into an agent's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentaudit.cli.common import JsonOption, example, fail, print_json, say
from agentaudit.receivers.hook import AGENTS, run  # standard library only: the hook stays quick

hooks_app = typer.Typer(help="Install or remove agentaudit's hooks in each agent's settings.")


def register(app: typer.Typer) -> None:
    app.command(
        epilog=example(
            "agentaudit hook claude-code < payload.json",
            "agentaudit hook copilot preToolUse < payload.json   # Copilot names no event",
            "agentaudit-hook cursor   # the same, without the CLI's start-up",
        )
    )(hook)
    app.add_typer(hooks_app, name="hooks")


def hook(
    agent: Annotated[str, typer.Argument(help=f"Which agent calls: {', '.join(AGENTS)}.")],
    event: Annotated[
        str | None,
        typer.Argument(help="The hook event, for agents whose payload does not name it (Copilot)."),
    ] = None,
) -> None:
    """Append the hook payload on stdin to the hook log; prints nothing, always exits 0
    (so it has no --json).

    For the lowest latency install `agentaudit-hook <agent>` (or `python -m agentaudit.receivers.hook`)
    as the hook command instead: same function, without the CLI's start-up.
    """
    raise typer.Exit(run(agent, event))


AgentArg = Annotated[
    str, typer.Argument(help="claude-code, codex, gemini, cursor, copilot, windsurf.")
]
ProjectOpt = Annotated[
    bool,
    typer.Option("--project", help="The project's settings (current directory), not the user's."),
]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", help="This settings file instead (e.g. ~/.codex/config.toml)."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the change; write nothing.")]


@hooks_app.command(
    "install",
    epilog=example(
        "agentaudit hooks install claude-code --dry-run",
        "agentaudit hooks install cursor --project",
        "agentaudit hooks install codex --no-guard --json",
    ),
)
def install(
    agent: AgentArg,
    project: ProjectOpt = False,
    file: FileOpt = None,
    dry_run: DryRunOpt = False,
    no_guard: Annotated[
        bool, typer.Option("--no-guard", help="Only the recorder, not the pre-execution guard.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Add the hook recorder (and the guard, where the agent lets a hook decide)."""
    _change("install", agent, project, file, dry_run, json, guard=not no_guard)


@hooks_app.command(
    "uninstall",
    epilog=example(
        "agentaudit hooks uninstall claude-code",
        "agentaudit hooks uninstall windsurf --project --dry-run",
    ),
)
def uninstall(
    agent: AgentArg,
    project: ProjectOpt = False,
    file: FileOpt = None,
    dry_run: DryRunOpt = False,
    json: JsonOption = False,
) -> None:
    """Remove agentaudit's entries; the user's other settings and hooks stay as they are."""
    _change("uninstall", agent, project, file, dry_run, json)


def _change(
    action: str,
    agent: str,
    project: bool,
    file: Path | None,
    dry_run: bool,
    json: bool,
    guard: bool = True,
) -> None:
    from agentaudit.receivers.hook_install import (
        InstallError,
        apply,
        plan_install,
        plan_uninstall,
        target,
    )

    try:
        path = file.expanduser() if file else target(agent, Path.cwd() if project else None)
        change = (
            plan_install(agent, path, guard) if action == "install" else plan_uninstall(agent, path)
        )
        if change.changed and not dry_run:
            apply(change)
    except InstallError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
        return
    if json:
        print_json(
            {
                "action": action,
                "agent": agent,
                "file": str(path),
                "changed": change.changed,
                "written": change.changed and not dry_run,
                "removed": change.changed and not dry_run and change.after is None,
                "diff": change.diff() if change.changed else "",
                "notes": list(change.notes),
            }
        )
        return
    if not change.changed:
        say(f"{path}: nothing to change")
        return
    if dry_run:
        typer.echo(change.diff(), nl=False)  # plain: a diff must not be re-wrapped
        return
    what = "removed from" if change.after is None else "written:"
    say(f"{action}ed agentaudit hooks for {agent}; {what} {path}")
    for note in change.notes:
        say(f"note: {note}")
