"""What every program analyser gets: the canonical command and the analysis context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand


@dataclass(frozen=True, slots=True)
class Context:
    cwd: str | None  # current directory (follows `cd`)
    home: str | None
    # analyse code found inside a command (bash -c, eval, heredoc fed to a shell)
    analyze_script: Callable[[str, int], list[Finding]]
    project: str | None = None  # the project root: the cwd the command line started in
    # the same, for code that runs on another host (ssh, kubectl exec): paths are not ours
    analyze_remote: Callable[[str, int], list[Finding]] | None = None


Analyser = Callable[[SimpleCommand, Context], list[Finding]]


@dataclass(slots=True)
class Args:
    short: set[str]  # single-letter flags, bundles unbundled (-rf -> r, f)
    long: set[str]  # --long flags, without their =value
    positional: list[str]
    values: dict[str, list[str]]  # values of value-taking options


def parse_args(args: list[str], takes_value: frozenset[str] | set[str] = frozenset()) -> Args:
    """getopt-style split; options after `--` are positional; glued short values kept."""
    short: set[str] = set()
    long: set[str] = set()
    positional: list[str] = []
    values: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional += args[i + 1 :]
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg.partition("=")
            long.add(name)
            if eq:
                values.setdefault(name, []).append(value)
            elif name in takes_value and i + 1 < len(args):
                values.setdefault(name, []).append(args[i + 1])
                i += 1
        elif arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            for j, letter in enumerate(arg[1:], start=1):
                flag = "-" + letter
                short.add(letter)
                if flag in takes_value:
                    value = arg[j + 1 :]
                    if not value and i + 1 < len(args):
                        value = args[i + 1]
                        i += 1
                    values.setdefault(flag, []).append(value)
                    break
        else:
            positional.append(arg)
        i += 1
    return Args(short, long, positional, values)


def wants_help(args: list[str]) -> bool:
    return any(a in ("--help", "-h", "--version", "help") for a in args[:3]) or ("--help" in args)
