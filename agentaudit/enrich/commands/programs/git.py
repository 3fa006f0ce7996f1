"""git: which subcommands and flags throw away work, history or remote branches."""

from __future__ import annotations

import re

from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.parse import SimpleCommand
from agentaudit.enrich.commands.programs.base import Context, parse_args

_GLOBAL_VALUE = {
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--exec-path",
}
_CHECKOUT_VALUE = {"-b", "-B", "--orphan", "--conflict", "-U", "--unified", "--inter-hunk-context"}
_CHECKOUT_OPTIONAL = {
    "--track": {"direct", "inherit"},
    "--recurse-submodules": {"checkout", "on-demand"},
}
_CHECKOUT_KNOWN_BOOL = {
    "-q", "--quiet", "--no-quiet", "--guess", "--no-guess", "--detach", "-t", "--track",
    "--no-track", "--recurse-submodules", "--no-recurse-submodules", "-l", "-m", "--merge",
    "--overlay", "--no-overlay", "--progress", "--no-progress", "--ignore-other-worktrees",
    "-p", "--patch", "--ignore-skip-worktree-bits",
}  # fmt: skip


def _finding(rule: str, severity: str, reason: str, sub: str, target: str | None = None):
    return Finding(
        f"git.{rule}", "vcs_history_loss", severity, reason, operation=f"git {sub}", target=target
    )


def git(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    args = cmd.argv[1:]
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--":
            i += 1
            break
        i += 2 if args[i] in _GLOBAL_VALUE else 1
    if i >= len(args):
        return []
    sub = args[i].lower()
    rest = [a.lower() if a.startswith("--") else a for a in args[i + 1 :]]
    if "--help" in rest or "-h" in rest:
        return []
    handler = _SUBCOMMANDS.get(sub)
    return handler(sub, rest) if handler else []


def _reset(sub: str, rest: list[str]) -> list[Finding]:
    if {"--hard", "--merge", "--keep"} & set(rest):
        return [_finding("reset-hard", "high", "git reset --hard discards uncommitted work", sub)]
    return []


def _clean(sub: str, rest: list[str]) -> list[Finding]:
    parsed = parse_args(rest, {"-e", "--exclude"})
    forced = "f" in parsed.short or "--force" in parsed.long
    dry = "n" in parsed.short or "--dry-run" in parsed.long
    if forced and not dry:
        return [_finding("clean-force", "high", "git clean -f deletes untracked files", sub)]
    return []


def _is_lease(arg: str) -> bool:
    return arg in ("--force-with-lease", "--force-if-includes") or arg.startswith(
        "--force-with-lease="
    )


def _push(sub: str, rest: list[str]) -> list[Finding]:
    parsed = parse_args(rest, {"-o", "--push-option", "--repo", "--receive-pack", "--exec"})
    lease = any(_is_lease(a) for a in rest)
    # an option git does not define that starts with --force is read as --force: only the
    # exact lease options make a forced push conditional
    other_force = any(a.startswith("--force") and a != "--force" and not _is_lease(a) for a in rest)
    refs = parsed.positional[1:]
    if "n" in parsed.short or "--dry-run" in parsed.long:
        return []  # git-push(1): -n/--dry-run does everything except send the updates
    forced = "f" in parsed.short or "--force" in parsed.long or "--mirror" in parsed.long
    # With both, git still checks the lease (remote.c: the expected value is compared before
    # force applies), though git-push(1) says --force disables "these checks": safety-net
    # reads it as git runs it, and so do we.
    if (forced and not lease) or other_force:
        return [_finding("push-force", "high", "git push --force rewrites remote history", sub,
                         " ".join(parsed.positional) or None)]  # fmt: skip
    if any(r.startswith("+") for r in refs) and not lease:
        return [_finding("push-force", "high", "git push +ref force-updates the remote", sub)]
    if "d" in parsed.short or "--delete" in parsed.long or any(r.startswith(":") for r in refs):
        return [_finding("push-delete", "medium", "git push deletes a remote branch", sub)]
    return []


def _checkout(sub: str, rest: list[str]) -> list[Finding]:
    forced = False
    creates = False
    positional: list[str] = []
    dashdash = False
    pathspec_file = False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if dashdash:
            positional.append(arg)
        elif arg == "--":
            dashdash = True
        elif arg.startswith("--"):
            name, eq, _ = arg.partition("=")
            forced = forced or name == "--force"
            creates = creates or name == "--orphan"
            pathspec_file = pathspec_file or name == "--pathspec-from-file"
            if (
                (name == "--pathspec-from-file" and not eq)
                or (name in _CHECKOUT_VALUE and not eq)
                or (
                    name in _CHECKOUT_OPTIONAL
                    and not eq
                    and i + 1 < len(rest)
                    and rest[i + 1] in _CHECKOUT_OPTIONAL[name]
                )
            ):
                i += 1
        elif arg.startswith("-") and len(arg) > 1:
            for j, letter in enumerate(arg[1:], start=1):
                if letter == "f":
                    forced = True
                if letter in "bB":
                    creates = True
                if "-" + letter in _CHECKOUT_VALUE:
                    if j == len(arg) - 1:
                        i += 1
                    break
        else:
            positional.append(arg)
        i += 1
    if forced:
        return [_finding("checkout-force", "medium", "git checkout -f discards local changes", sub)]
    if (dashdash and positional) or pathspec_file:
        return [_finding("checkout-paths", "medium",
                         "git checkout -- <paths> overwrites uncommitted changes", sub,
                         " ".join(positional) or None)]  # fmt: skip
    if not creates and len(positional) == 1 and _looks_like_path(positional[0]):
        return [_finding("checkout-paths", "medium",
                         "git checkout <path> overwrites uncommitted changes", sub, positional[0])]  # fmt: skip
    if not creates and len(positional) >= 2:
        return [_finding("checkout-paths", "medium",
                         "git checkout <ref> <paths> overwrites uncommitted changes", sub,
                         " ".join(positional[1:]))]  # fmt: skip
    return []


def _looks_like_path(word: str) -> bool:
    """`.`, `./src`, `*.ts`, `src/app.py`: a pathspec, not a branch name (feature/x is one)."""
    return (
        word in (".", "..", ":/")
        or word.startswith(("./", "../", "*"))
        or ("*" in word or (bool(re.search(r"\.[A-Za-z0-9]{1,5}$", word)) and "/" in word))
    )


def _switch(sub: str, rest: list[str]) -> list[Finding]:
    before = rest[: rest.index("--")] if "--" in rest else rest
    parsed = parse_args(before, {"-c", "-C", "--create", "--force-create", "--orphan"})
    if "--discard-changes" in parsed.long or "--force" in parsed.long or "f" in parsed.short:
        return [_finding("switch-discard", "medium", "git switch -f discards local changes", sub)]
    return []


def _restore(sub: str, rest: list[str]) -> list[Finding]:
    parsed = parse_args(rest, {"-s", "--source"})
    staged = "S" in parsed.short or "--staged" in parsed.long
    worktree = "W" in parsed.short or "--worktree" in parsed.long
    if (worktree or not staged) and (parsed.positional or "--pathspec-from-file" in parsed.long):
        return [_finding("restore-worktree", "medium",
                         "git restore overwrites uncommitted changes in the working tree", sub,
                         " ".join(parsed.positional) or None)]  # fmt: skip
    return []


def _branch(sub: str, rest: list[str]) -> list[Finding]:
    parsed = parse_args(rest)
    force_delete = "D" in parsed.short or (
        ("d" in parsed.short or "--delete" in parsed.long)
        and ("f" in parsed.short or "--force" in parsed.long)
    )
    if not force_delete and ("f" in parsed.short or "--force" in parsed.long) and parsed.positional:
        return [_finding("branch-force-reset", "medium",
                         "git branch -f moves an existing branch, dropping its commits", sub,
                         parsed.positional[0])]  # fmt: skip
    if force_delete:
        return [_finding("branch-force-delete", "medium",
                         "git branch -D deletes a branch even if unmerged", sub,
                         " ".join(parsed.positional) or None)]  # fmt: skip
    return []


def _stash(sub: str, rest: list[str]) -> list[Finding]:
    words = [a for a in rest if not a.startswith("-")]
    if words and words[0] in ("drop", "clear"):
        return [
            _finding(f"stash-{words[0]}", "medium", f"git stash {words[0]} loses stashed work", sub)
        ]
    return []


def _worktree(sub: str, rest: list[str]) -> list[Finding]:
    before = rest[: rest.index("--")] if "--" in rest else rest
    if before and before[0] == "remove" and ({"-f", "--force"} & set(before[1:])):
        return [_finding("worktree-remove-force", "medium",
                         "git worktree remove --force deletes uncommitted work", sub)]  # fmt: skip
    return []


def _rewrite(sub: str, rest: list[str]) -> list[Finding]:
    return [_finding(f"{sub}", "high", f"git {sub} rewrites history", sub)]


def _reflog(sub: str, rest: list[str]) -> list[Finding]:
    if rest[:1] == ["expire"] or rest[:1] == ["delete"]:
        return [_finding("reflog-expire", "high", "git reflog expire drops recovery points", sub)]
    return []


def _gc(sub: str, rest: list[str]) -> list[Finding]:
    if any(a.startswith("--prune=now") or a == "--prune=all" for a in rest):
        return [
            _finding("gc-prune-now", "medium", "git gc --prune=now drops unreachable commits", sub)
        ]
    return []


def _update_ref(sub: str, rest: list[str]) -> list[Finding]:
    if "-d" in rest or "--delete" in rest:
        return [_finding("update-ref-delete", "medium", "git update-ref -d deletes a ref", sub)]
    return []


_SUBCOMMANDS = {
    "reset": _reset,
    "clean": _clean,
    "push": _push,
    "checkout": _checkout,
    "switch": _switch,
    "restore": _restore,
    "branch": _branch,
    "stash": _stash,
    "worktree": _worktree,
    "filter-branch": _rewrite,
    "filter-repo": _rewrite,
    "reflog": _reflog,
    "gc": _gc,
    "update-ref": _update_ref,
}

PROGRAMS = {"git": git}
