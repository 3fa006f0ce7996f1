"""Canonical argv: strip the wrappers that run another command unchanged.

`sudo -u root -- env A=1 nohup /usr/bin/git reset --hard` runs `git reset --hard`; `echo / |
xargs rm -rf` runs `rm -rf /`; `parallel rm -rf ::: a b` runs `rm -rf a` and `rm -rf b`.
Each wrapper lists the options that take a value, so the first word after its options is
the program it runs. Program names lose their directory and a leading backslash.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.remote import unwrap_remote

# wrapper -> options that consume the next word (short options may also be glued: -uroot)
_WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-c", "--user"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-P", "-S", "--unset", "--chdir", "--split-string"},
    "command": set(),
    "builtin": set(),
    "exec": {"-a"},
    "nohup": set(),
    "time": {"-f", "-o", "--format", "--output"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "-n", "-p", "-t"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
    "chrt": {"-p"},
    "taskset": {"-p"},
    "setsid": set(),
    "unbuffer": set(),
    "caffeinate": {"-t", "-w"},
    "flock": {"-w", "-E", "-c"},
    "busybox": set(),
    "npx": {"-p", "--package", "-c", "--call"},
    "bunx": {"-p", "--package"},
    "pnpx": set(),
    "uvx": {"--from", "--with", "-p", "--python"},
    "watch": {"-n", "-d", "--interval"},
    "strace": {"-e", "-o", "-p", "-s"},
    "torsocks": set(),
    "proxychains": {"-f"},
    # transient units and timers: the command runs now or on a schedule, as the unit
    "systemd-run": {
        "-u",
        "--unit",
        "-p",
        "--property",
        "--description",
        "--slice",
        "-E",
        "--setenv",
        "--uid",
        "--gid",
        "--nice",
        "--working-directory",
        "-M",
        "--machine",
        "-H",
        "--host",
        "--on-active",
        "--on-boot",
        "--on-startup",
        "--on-unit-active",
        "--on-unit-inactive",
        "--on-calendar",
        "--timer-property",
        "--path-property",
        "--socket-property",
        "--service-type",
        "-t",
    },
}
_POSITIONAL_BEFORE_COMMAND = {"timeout": 1, "flock": 1, "chrt": 1, "taskset": 1}
_XARGS_VALUE_OPTIONS = {"-I", "-J", "-L", "-n", "-P", "-s", "-d", "-E", "-a", "-e", "-l"}
_PARALLEL_VALUE_OPTIONS = {"-j", "-S", "--jobs", "--results", "--sshlogin", "-a", "--arg-file"}
_SSH_VALUE_OPTIONS = set("bcDEeFIiJLlmOopQRSWw")
_ASSIGNMENT_WORD = re.compile(r"^[^=/\s]*=")
_MAX_UNWRAP = 12


def program_name(word: str) -> str:
    """`/usr/bin/Git` and `\\git` -> `git` (names are compared case-insensitively)."""
    return word.lstrip("\\").rsplit("/", 1)[-1].lower()


def canonicalize(command: SimpleCommand) -> list[SimpleCommand]:
    """The commands that really run, wrappers removed (one, or several for parallel)."""
    pending = [command]
    done: list[SimpleCommand] = []
    for _ in range(_MAX_UNWRAP * 4):
        if not pending:
            break
        current = pending.pop(0)
        unwrapped = _unwrap_once(current)
        if unwrapped is None:
            if current.argv:
                done.append(
                    replace(current, argv=[program_name(current.argv[0]), *current.argv[1:]])
                )
        else:
            pending = unwrapped + pending
    return done


def _unwrap_once(command: SimpleCommand) -> list[SimpleCommand] | None:
    argv = command.argv
    assigned = {}
    while argv and _ASSIGNMENT_WORD.match(argv[0]) and len(argv) > 1:
        name, _, value = argv[0].partition("=")
        assigned[name] = value  # `sudo RAILS_ENV=test rails ...`: the command's environment
        argv = argv[1:]  # `A-B=2 git ...`: bash would not run it, but the intent is clear
    if assigned:
        command = replace(command, env={**command.env, **assigned})
    if not argv:
        return None
    name = program_name(argv[0])
    remote = unwrap_remote(replace(command, argv=argv) if argv is not command.argv else command)
    if remote is not None:
        return remote
    if name in _WRAPPERS:
        if name == "busybox" and len(argv) > 1 and program_name(argv[1]) in ("sh", "ash"):
            return [_child(command, argv[1:], name)]
        rest = _skip_options(name, argv[1:])
        if rest is None:
            return None
        skipped = argv[1 : len(argv) - len(rest)]
        assigned = dict(w.split("=", 1) for w in skipped if _ASSIGNMENT_WORD.match(w) and "=" in w)
        if assigned:  # `env RAILS_ENV=test rails ...`, `sudo FOO=1 cmd`
            command = replace(command, env={**command.env, **assigned})
        return [_child(command, rest, name)] if rest else None
    if name == "java" and "-jar" in argv[1:-1]:  # java -jar jenkins-cli.jar ... -> jenkins-cli
        jar = argv.index("-jar") + 1
        return [
            _child(
                command,
                [argv[jar].rsplit("/", 1)[-1].removesuffix(".jar"), *argv[jar + 1 :]],
                "java",
            )
        ]
    if name == "xargs":
        return _xargs(command, argv)
    if name == "parallel":
        return _parallel(command, argv)
    if name == "ssh":
        return _ssh(command, argv)
    if argv is not command.argv:
        return [replace(command, argv=argv)]
    return None


def _child(command: SimpleCommand, argv: list[str], wrapper: str) -> SimpleCommand:
    return replace(command, argv=argv, wrappers=[*command.wrappers, wrapper])


def _skip_options(name: str, args: list[str]) -> list[str] | None:
    takes_value = _WRAPPERS[name]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if name == "env" and _ASSIGNMENT_WORD.match(arg):
            i += 1
            continue
        if name == "env" and (arg in ("-S", "--split-string") or arg.startswith("-S")):
            value = (
                args[i + 1] if arg in ("-S", "--split-string") and i + 1 < len(args) else arg[2:]
            )
            try:
                split = shlex.split(value)
            except ValueError:
                split = value.split()
            skip = 2 if arg in ("-S", "--split-string") else 1
            return [w for w in split if not _ASSIGNMENT_WORD.match(w)] + args[i + skip :]
        if not arg.startswith("-") or arg == "-":
            if arg == "-" and name == "env":
                i += 1
                continue
            break
        if arg in takes_value:
            i += 2
            continue
        if "=" in arg and arg.startswith("--"):
            i += 1
            continue
        i += 1
    for _ in range(_POSITIONAL_BEFORE_COMMAND.get(name, 0)):
        i += 1  # timeout DURATION, flock FILE
    return args[i:]


def _stdin_words(command: SimpleCommand) -> list[str] | None:
    if command.stdin is None:
        return None
    try:
        return shlex.split(command.stdin)
    except ValueError:
        return command.stdin.split()


INPUT_AS_CODE = "input-as-code"  # wrapper mark: xargs/parallel made their input a shell script
_SHELL_NAMES = {"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"}


def _input_is_script(inner: list[str], token: str | None) -> bool:
    """`xargs bash -c`, `xargs -I{} sh -c {}`, `parallel bash -c {}`: the input lines become
    the script the shell runs, not arguments of a fixed script."""
    if not inner or inner[0].rsplit("/", 1)[-1] not in _SHELL_NAMES:
        return False
    flag = next(
        (i for i, a in enumerate(inner[1:], 1) if re.fullmatch(r"-[a-zA-Z]*c[a-zA-Z]*", a)), None
    )
    if flag is None:
        return False
    script = inner[flag + 1] if flag + 1 < len(inner) else None
    return script is None or script == token or re.fullmatch(r"\{\d*\}", script) is not None


def _xargs(command: SimpleCommand, argv: list[str]) -> list[SimpleCommand] | None:
    args = argv[1:]
    replace_token: str | None = None
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        arg = args[i]
        if arg in ("-I", "-J"):
            replace_token = args[i + 1] if i + 1 < len(args) else "{}"
            i += 2
            continue
        if arg in ("-i", "--replace") or arg.startswith("--replace"):
            replace_token = arg.split("=", 1)[1] if "=" in arg else "{}"
            replace_token = replace_token or "{}"
            i += 1
            continue
        if arg.startswith(("-I", "-J")):
            replace_token = arg[2:]
            i += 1
            continue
        if arg.startswith("-i"):
            replace_token = arg[2:] or "{}"
            i += 1
            continue
        if arg in _XARGS_VALUE_OPTIONS or arg in ("--delimiter", "--arg-file", "--max-args"):
            i += 2
            continue
        i += 1
    if i < len(args) and args[i] == "--":
        i += 1
    inner = args[i:] or ["echo"]
    items = _stdin_words(command)
    if replace_token and command.stdin is not None:
        items = [line for line in command.stdin.splitlines() if line.strip()]  # -I: whole lines
    if items is None:
        items = ["$XARGS_INPUT"]  # data from a non-literal stdin: unknown at audit time
    if replace_token and not any(replace_token in a for a in inner):
        replace_token = None  # nothing to replace: xargs appends the input
    mark = [INPUT_AS_CODE] if _input_is_script(inner, replace_token) else []
    if replace_token:
        runs = [[a.replace(replace_token, item) for a in inner] for item in items[:8]] or [inner]
    else:
        runs = [inner + items]
    return [
        replace(
            command,
            argv=run,
            stdin=None,
            stdin_piped=False,
            wrappers=[*command.wrappers, "xargs", *mark],
        )
        for run in runs
    ]


def _parallel(command: SimpleCommand, argv: list[str]) -> list[SimpleCommand] | None:
    args = argv[1:]
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in (":::", "::::"):
        i += 2 if args[i] in _PARALLEL_VALUE_OPTIONS else 1
    template: list[str] = []
    while i < len(args) and args[i] not in (":::", "::::", ":::+"):
        template.append(args[i])
        i += 1
    inputs: list[str] = [a for a in args[i:] if a not in (":::", "::::", ":::+")]
    if not inputs and not template:
        return None
    if not inputs:  # parallel reads one argument per input line, not per word
        lines = command.stdin.splitlines() if command.stdin is not None else []
        inputs = [line for line in lines if line.strip()] or ["$PARALLEL_INPUT"]
    mark = [INPUT_AS_CODE] if _input_is_script(template, None) else []
    runs: list[list[str]] = []
    for item in inputs[:8]:
        if not template:
            runs.append(["sh", "-c", item])  # `parallel ::: 'rm -rf /'`: inputs are commands
        elif any("{" in a for a in template):
            runs.append([re.sub(r"\{\d*\}", item, a) for a in template])
        else:
            runs.append([*template, item])
    return [
        replace(command, argv=run, stdin=None, wrappers=[*command.wrappers, "parallel", *mark])
        for run in runs
    ] or None


def _ssh(command: SimpleCommand, argv: list[str]) -> list[SimpleCommand] | None:
    args = argv[1:]
    i = 0
    while i < len(args) and args[i].startswith("-"):
        flag = args[i]
        i += 2 if len(flag) == 2 and flag[1] in _SSH_VALUE_OPTIONS else 1
    remote = args[i + 1 :]
    if not remote:
        return None
    script = " ".join(remote)
    host = args[i] if i < len(args) else ""
    return [
        replace(command, argv=["sh", "-c", script], wrappers=[*command.wrappers, "ssh"],
                remote=True, via=f"ssh {host}")
    ]  # fmt: skip
