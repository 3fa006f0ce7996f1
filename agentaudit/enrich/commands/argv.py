"""argv read the way the program reads it: subcommand words, options and their values.

`invocation(program, args)` splits an argv with the program's own option rules from
`clis.yaml`: which options take a value (`--profile prod s3 rb` -> words `s3 rb`), `--opt=value`
and `--opt value` alike, and whether `-destroy` is one option (Go's flag package: terraform,
vault, find) or a bundle of short flags (`-rf`). Programs not listed follow the GNU
conventions, with the long options that CLIs commonly give a value (`--profile`, `--context`,
...) read as taking one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

_SPEC_FILE = Path(__file__).with_name("clis.yaml")
# Long options that take a value in most CLIs (documented conventions: cobra, click, oclif).
_CONVENTIONAL_VALUE = frozenset(
    {
        "--profile", "--region", "--project", "--context", "--namespace", "--kubeconfig",
        "--app", "--env", "--environment", "--config", "--cwd", "--stack", "--org", "--account",
        "--zone", "--location", "--cluster", "--service", "--database", "--host", "--port",
        "--user", "--url", "--token", "--team", "--scope", "--workdir", "--output", "--format",
        "--project-ref", "--db-url", "--site", "--name",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CliSpec:
    value: frozenset[str]
    single_dash: bool = False  # Go flag style: `-destroy` is one option
    long_values: bool = False  # every --option takes a value except `flags` and --no-*
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Invocation:
    """One argv, read: positional words in order, options present, and their values."""

    program: str
    args: tuple[str, ...]
    words: tuple[str, ...]  # subcommand path and operands, option values removed
    options: frozenset[str]  # option names present; short bundles split (-rf -> -r, -f)
    values: tuple[tuple[str, str], ...]  # (option, value) in order

    def has(self, *names: str) -> bool:
        return not self.options.isdisjoint(names)

    def value(self, *names: str) -> str | None:
        """The last value given to any of `names` (`--opt=v`, `--opt v`, `-ov`)."""
        found = None
        for name, value in self.values:
            if name in names:
                found = value
        return found

    def all_values(self, *names: str) -> list[str]:
        return [v for n, v in self.values if n in names]


@lru_cache(maxsize=1)
def _specs() -> dict[str, CliSpec]:
    raw = yaml.safe_load(_SPEC_FILE.read_text(encoding="utf-8")) or {}
    specs: dict[str, CliSpec] = {}
    for name, entry in raw.items():
        base = raw.get(entry.get("like"), entry) if entry.get("like") else entry
        specs[name] = CliSpec(
            value=frozenset(base.get("value", [])),
            single_dash=base.get("style") == "single",
            long_values=bool(base.get("long_values")),
            flags=frozenset(base.get("flags", [])),
        )
    return specs


def spec_for(program: str) -> CliSpec | None:
    return _specs().get(program)


def single_dash(program: str) -> bool:
    spec = spec_for(program)
    return bool(spec and spec.single_dash)


@lru_cache(maxsize=8192)
def _parse(program: str, args: tuple[str, ...]) -> Invocation:
    spec = spec_for(program)
    takes_value = spec.value if spec else _CONVENTIONAL_VALUE
    single = bool(spec and spec.single_dash)
    long_values = bool(spec and spec.long_values)
    flags = spec.flags if spec else frozenset()
    words: list[str] = []
    options: set[str] = set()
    values: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if arg == "--":
            words += args[i + 1 :]
            break
        if (arg.startswith("--") and len(arg) > 2) or (single and _is_option(arg)):
            name, eq, value = arg.partition("=")
            if single and not name.startswith("--"):
                name = "-" + name  # -destroy and --destroy are the same option
            options.add(name)
            short_name = name[1:] if single else name
            if eq:
                values.append((name, value))
            elif ((name in takes_value or short_name in takes_value) and nxt is not None) or (
                long_values
                and nxt is not None
                and not nxt.startswith("--")
                and name not in flags
                and not name.startswith("--no-")
            ):
                values.append((name, nxt))
                i += 1
            i += 1
            continue
        if _is_option(arg):
            for j, letter in enumerate(arg[1:], start=1):
                flag = "-" + letter
                options.add(flag)
                if flag in takes_value:
                    glued = arg[j + 1 :].removeprefix("=")
                    if glued:
                        values.append((flag, glued))
                    elif nxt is not None:
                        values.append((flag, nxt))
                        i += 1
                    break
            i += 1
            continue
        words.append(arg)
        i += 1
    return Invocation(program, args, tuple(words), frozenset(options), tuple(values))


def _is_option(arg: str) -> bool:
    return len(arg) > 1 and arg[0] == "-" and not arg[1].isdigit()


def invocation(program: str, args: list[str] | tuple[str, ...]) -> Invocation:
    return _parse(program, tuple(args))
