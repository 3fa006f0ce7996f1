"""Filesystem: rm, find -delete/-exec, shred, truncate, dd, mkfs, wipefs, mv to /dev/null.

Severity comes from the target's scope (see `scope.py`), not from the verb alone.
"""

from __future__ import annotations

import re

from agentaudit.enrich.commands import scope as scopes
from agentaudit.enrich.commands.model import Finding, max_severity
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context, parse_args, wants_help

_RECURSIVE_BY_SCOPE = {"system": "high", "home": "high", "unknown": "medium", "temp": "low"}
_FILE_BY_SCOPE = {"system": "low", "home": "low", "unknown": "low", "temp": "low", "project": "low"}
_PRECIOUS = re.compile(r"(^|/)([\w.-]*\.tfstate(\.backup)?|\.git)$")
_SYSTEM_FILES = ("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib", "/var/lib/", "/dev/sd")


def delete_severity(
    target: str, recursive: bool, cmd: SimpleCommand, ctx: Context
) -> tuple[str, str]:
    """(severity, scope) of deleting one target."""
    path = scopes.resolve(target, cmd.env, ctx.cwd)
    scope = scopes.classify(path, ctx.project, ctx.home)
    if cmd.remote and scope == "project":
        if scopes.is_cache(path):
            return "low", "remote"  # a cache is a cache anywhere
        scope = "unknown"  # relative to the remote working directory; a server's build/ is live
    if cmd.remote and scope == "temp" and not scopes.is_scratch_name(path):
        return "medium", "remote"  # a server's /tmp may hold its data: we cannot see it
    if scope in ("home", "system") and scopes.is_home_cache(path):
        return "low", scope  # a package manager's cache: rebuilt on demand
    if _PRECIOUS.search(path.rstrip("/")):
        return "high", scope  # Terraform state or a repository's history: not regenerable
    whole = scopes.is_root_of_scope(path) or scopes.is_root_of_scope(target)
    if ctx.project and path.rstrip("/") == ctx.project.rstrip("/"):
        whole = True  # the project directory itself
    if recursive:
        if whole and scope in ("system", "home"):
            severity = "critical"
        elif whole and scope == "project":
            severity = "high"
        elif scope == "project":
            severity = "low" if scopes.is_regenerable(path) else "medium"
        else:
            severity = _RECURSIVE_BY_SCOPE.get(scope, "medium")
    else:
        severity = _FILE_BY_SCOPE.get(scope, "low")
        if (whole and scope in ("system", "home")) or path.startswith(_SYSTEM_FILES):
            severity = "high"
        elif "*" in path and scope in ("home", "system", "unknown"):
            severity = "medium"  # a glob outside the project deletes files nobody listed
    if "sudo" in cmd.wrappers and scope in ("system", "unknown"):
        severity = max_severity(severity, "medium")
    return severity, scope


def _delete_findings(
    rule: str, verb: str, targets: list[str], recursive: bool, cmd: SimpleCommand, ctx: Context
) -> list[Finding]:
    findings = []
    for target in targets:
        severity, scope = delete_severity(target, recursive, cmd, ctx)
        kind = "recursively deletes" if recursive else "deletes"
        findings.append(
            Finding(
                rule, "fs_delete", severity, f"{verb} {kind} {target} ({scope})",
                operation=verb, target=target, scope=scope,
            )
        )  # fmt: skip
    return findings


def rm(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    args = cmd.argv[1:]
    if wants_help(args):
        return []
    parsed = parse_args(args)
    recursive = bool({"r", "R"} & parsed.short) or "--recursive" in parsed.long
    targets = parsed.positional
    if not targets:
        return []
    return _delete_findings("fs.rm", "rm", targets, recursive, cmd, ctx)


def rmdir_unlink(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    targets = parse_args(cmd.argv[1:]).positional
    return _delete_findings(f"fs.{cmd.program}", cmd.program, targets, False, cmd, ctx)


_FIND_VALUE_TESTS = {
    "-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-type", "-mtime", "-mmin",
    "-atime", "-ctime", "-newer", "-size", "-user", "-group", "-perm", "-maxdepth", "-mindepth",
    "-wholename", "-printf", "-fprint", "-amin", "-cmin", "-inum", "-links", "-samefile",
}  # fmt: skip


def find(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    args = cmd.argv[1:]
    roots: list[str] = []
    i = 0
    while i < len(args) and not args[i].startswith(("-", "(", "!")):
        roots.append(args[i])
        i += 1
    while i < len(args) and args[i] in ("-H", "-L", "-P"):
        i += 1
    roots = roots or ["."]
    findings: list[Finding] = []
    selective = False
    name = ""
    while i < len(args):
        arg = args[i]
        if arg in ("-name", "-iname") and i + 1 < len(args) and "/" not in args[i + 1]:
            name = args[i + 1]
        if arg in _FIND_VALUE_TESTS:
            selective = selective or arg not in ("-maxdepth", "-mindepth", "-printf", "-fprint")
            i += 2
            continue
        if arg == "-delete":
            for root in roots:
                severity, scope = delete_severity(root, True, cmd, ctx)
                if selective and severity == "critical":
                    severity = "high"
                if scope == "project" and name and scopes.is_regenerable(name):
                    # `find . -name '*.pyc' -delete`: build output only, though under the
                    # whole project (peers block it: flagged, never high)
                    severity = "medium"
                elif scope == "project" and not scopes.is_regenerable(
                    scopes.resolve(root, cmd.env, ctx.cwd)
                ):
                    severity = max_severity(severity, "medium")
                findings.append(
                    Finding("fs.find-delete", "fs_delete", severity,
                            f"find -delete removes files under {root} ({scope})",
                            operation="find -delete", target=root, scope=scope)
                )  # fmt: skip
            i += 1
            continue
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            end = i + 1
            while end < len(args) and args[end] not in (";", "\\;", "+"):
                end += 1
            matched = roots[0].rstrip("/") + "/" + name if name else roots[0]
            inner = [a.replace("{}", matched) for a in args[i + 1 : end]]
            if inner:
                script = " ".join(_quote(a) for a in inner)
                findings += ctx.analyze_script(script, cmd.depth + 1)
            i = end + 1
            continue
        i += 1
    return findings


def _quote(word: str) -> str:
    return (
        word
        if word and all(c.isalnum() or c in "-_./~=:@%+{},*$" for c in word)
        else ("'" + word.replace("'", "'\\''") + "'")
    )


def shred(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    parsed = parse_args(cmd.argv[1:], {"-n", "-s", "--iterations", "--size"})
    findings = []
    for target in parsed.positional:
        severity, scope = delete_severity(target, True, cmd, ctx)
        severity = max_severity(severity, "medium" if scope != "temp" else "low")
        findings.append(
            Finding("fs.shred", "fs_delete", severity, f"shred overwrites {target} beyond recovery",
                    operation="shred", target=target, scope=scope)
        )  # fmt: skip
    return findings


def truncate(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    if not any(a.startswith(("-s", "--size", "-r", "--reference")) for a in cmd.argv[1:]):
        # `TRUNCATE users;` is SQL typed into a shell; coreutils truncate needs a size
        from agentaudit.enrich.commands.programs.db import classify_sql

        return classify_sql(" ".join(cmd.argv))
    parsed = parse_args(cmd.argv[1:], {"-s", "--size", "-r", "--reference"})
    sizes = parsed.values.get("-s", []) + parsed.values.get("--size", [])
    if not any(s.strip() in ("0", "0K", "0M") or s.startswith("-") for s in sizes):
        return []
    findings = []
    for target in parsed.positional:
        severity, scope = delete_severity(target, False, cmd, ctx)
        findings.append(
            Finding("fs.truncate", "data_overwrite", max_severity(severity, "medium"),
                    f"truncate empties {target}", operation="truncate", target=target, scope=scope)
        )  # fmt: skip
    return findings


def dd(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    operands = dict(a.split("=", 1) for a in cmd.argv[1:] if "=" in a)
    out = operands.get("of")
    if not out or out in ("/dev/null", "/dev/stdout", "/dev/stderr", "-"):
        return []
    if out.startswith("/dev/"):
        return [
            Finding("fs.dd-device", "disk_wipe", "critical", f"dd writes raw data over {out}",
                    operation="dd", target=out, scope="system")
        ]  # fmt: skip
    severity, scope = delete_severity(out, False, cmd, ctx)
    source = operands.get("if", "")
    if source in ("/dev/zero", "/dev/urandom", "/dev/random"):
        return [
            Finding("fs.dd-overwrite", "data_overwrite", max_severity(severity, "medium"),
                    f"dd overwrites {out} with {source}", operation="dd", target=out, scope=scope)
        ]  # fmt: skip
    return []


def mkfs(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    if wants_help(cmd.argv[1:]):
        return []
    devices = [a for a in cmd.argv[1:] if a.startswith("/dev/") or not a.startswith("-")]
    target = devices[-1] if devices else None
    return [
        Finding("fs.format", "disk_wipe", "critical", f"{cmd.program} erases {target or 'a disk'}",
                operation=cmd.program, target=target, scope="system")
    ]  # fmt: skip


def mv(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    parsed = parse_args(cmd.argv[1:], {"-t", "--target-directory", "-S", "--suffix"})
    if len(parsed.positional) < 2:
        return []
    dest = parsed.positional[-1]
    if dest == "/dev/null":
        return _delete_findings("fs.mv-devnull", "mv", parsed.positional[:-1], True, cmd, ctx)
    return []


def redirect_overwrites(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`> file` truncates; flagged only for files whose loss matters (system files)."""
    findings = []
    for op, target in cmd.redirects:
        if op in (">", ">|", "&>") and target.startswith(
            ("/etc/", "/boot/", "/dev/sd", "/dev/nvme")
        ):
            findings.append(
                Finding("fs.redirect-overwrite", "data_overwrite", "high",
                        f"redirect {op} overwrites {target}", operation="redirect",
                        target=target, scope="system")
            )  # fmt: skip
    return findings


def chmod_chown(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    parsed = parse_args(cmd.argv[1:])
    recursive = "R" in parsed.short or "--recursive" in parsed.long
    targets = parsed.positional[1:]
    findings = []
    for target in targets:
        path = scopes.resolve(target, cmd.env, ctx.cwd)
        scope = scopes.classify(path, ctx.project, ctx.home)
        whole = scopes.is_root_of_scope(path)
        mode = parsed.positional[0] if parsed.positional else ""
        if (
            (recursive and scope == "system")
            or (whole and scope in ("system", "home"))
            or (cmd.program == "chmod" and mode.endswith("777") and recursive and scope != "temp")
        ):
            findings.append(
                Finding(f"fs.{cmd.program}-broad", "privilege_change",
                        "high" if scope == "system" else "medium",
                        f"{cmd.program} {'-R ' if recursive else ''}{mode} {target}",
                        operation=cmd.program, target=target, scope=scope)
            )  # fmt: skip
    if (
        cmd.program == "chmod"
        and parsed.positional
        and any(m in parsed.positional[0] for m in ("4755", "u+s", "+s", "6755"))
    ):
        findings.append(
            Finding("fs.setuid", "privilege_change", "medium", "sets the setuid bit",
                    operation="chmod", target=" ".join(targets) or None)
        )  # fmt: skip
    return findings


def install(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    parsed = parse_args(cmd.argv[1:], {"-m", "--mode", "-o", "-g", "-t"})
    modes = parsed.values.get("-m", []) + parsed.values.get("--mode", [])
    if any((m.startswith(("4", "6", "2")) and len(m) == 4) or "s" in m for m in modes):
        return [
            Finding("fs.install-setuid", "privilege_change", "medium",
                    "install -m sets the setuid/setgid bit", operation="install",
                    target=parsed.positional[-1] if parsed.positional else None)
        ]  # fmt: skip
    return []


def copy_to_system(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """scp/rsync whose destination is a system directory overwrite what the host runs on."""
    positional = [a for a in cmd.argv[1:] if not a.startswith("-")]
    if len(positional) < 2:
        return []
    dest = positional[-1]
    path = dest.split(":", 1)[1] if re.match(r"^[\w.@-]+:", dest) else dest
    remote = path != dest
    if (
        (path in ("/", "") and remote)
        or path.startswith(_SYSTEM_FILES)
        or path.rstrip("/") in scopes.SYSTEM_CRITICAL
    ):
        return [
            Finding(f"fs.{cmd.program}-system", "data_overwrite", "high",
                    f"{cmd.program} writes into system path {path or '/'}",
                    operation=cmd.program, target=dest, scope="remote" if remote else "system")
        ]  # fmt: skip
    return []


PROGRAMS = {
    "scp": copy_to_system,
    "rm": rm,
    "srm": rm,
    "trash": rm,
    "rmdir": rmdir_unlink,
    "unlink": rmdir_unlink,
    "find": find,
    "shred": shred,
    "wipe": shred,
    "truncate": truncate,
    "dd": dd,
    "mkfs": mkfs,
    "mke2fs": mkfs,
    "mkswap": mkfs,
    "wipefs": mkfs,
    "mv": mv,
    "chmod": chmod_chown,
    "chown": chmod_chown,
    "install": install,
}
PREFIX_PROGRAMS = {"mkfs.": mkfs}
