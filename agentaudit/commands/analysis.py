"""Split a command line into simple commands and classify each by its program."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from agentaudit.catalog import railway

_OPERATORS = {";", "&&", "||", "|", "&", "|&", ";;", "\n"}
_WRAPPERS = {"sudo", "env", "nohup", "time", "command", "exec", "nice", "doas", "timeout"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SECRET_WORDS = re.compile(
    r"(?i)(token|secret|passw|api[_-]?key|access[_-]?key|credential|private[_-]?key|"
    r"railway|aws_|ghp_|bearer)"
)
_SQL_DESTROY = re.compile(r"(?i)\b(drop\s+(table|database|schema)|truncate(\s+table)?\s+\w)")
PROVIDER_HOSTS = {
    "backboard.railway.app": "railway",
    "backboard.railway.com": "railway",
}


@dataclass(frozen=True, slots=True)
class CommandAnalysis:
    operation: str | None = None
    destructive: bool = False
    categories: tuple[str, ...] = ()
    target: str | None = None
    url: str | None = None
    provider: str | None = None
    programs: tuple[str, ...] = field(default=())


@lru_cache(maxsize=65536)
def analyze(command: str) -> CommandAnalysis:
    """Analyse one command line (cached: agents repeat themselves)."""
    segments = split_simple_commands(command)
    results = [_analyze_argv(argv) for argv in segments if argv]
    results = [r for r in results if r is not None]
    programs = tuple(dict.fromkeys(r.programs[0] for r in results if r.programs))
    if _SQL_DESTROY.search(command):
        results.append(CommandAnalysis("sql:destroy", True, ("db_destroy",)))
    if not results:
        return CommandAnalysis(programs=programs)
    main = next((r for r in results if r.destructive), results[0])
    categories = tuple(dict.fromkeys(c for r in results for c in r.categories))
    return CommandAnalysis(
        operation=main.operation,
        destructive=any(r.destructive for r in results),
        categories=categories,
        target=main.target,
        url=main.url or next((r.url for r in results if r.url), None),
        provider=main.provider,
        programs=programs,
    )


def split_simple_commands(command: str) -> list[list[str]]:
    """argv of each simple command in the line (operators split, line continuations joined)."""
    text = command.replace("\\\r\n", "").replace("\\\n", "")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to words
        tokens = text.split()
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [_strip_wrappers(s) for s in segments if s]


def _strip_wrappers(argv: list[str]) -> list[str]:
    i = 0
    while i < len(argv) and (_ASSIGNMENT.match(argv[i]) or argv[i] in _WRAPPERS):
        i += 1
        # flags of the wrapper itself (sudo -u root, timeout 10)
        while i < len(argv) and (argv[i].startswith("-") or argv[i].isdigit()):
            i += 1
    return argv[i:]


def _analyze_argv(argv: list[str]) -> CommandAnalysis | None:
    program = os.path.basename(argv[0])
    handler = _PROGRAMS.get(program)
    result = handler(argv) if handler else None
    if result is None:
        words = [a for a in argv[1:3] if not a.startswith("-")]
        result = CommandAnalysis(operation=" ".join([program, *words[:1]]))
    return CommandAnalysis(
        result.operation,
        result.destructive,
        result.categories,
        result.target,
        result.url,
        result.provider,
        (program,),
    )


def _flag_value(argv: list[str], *names: str) -> list[str]:
    values = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                values.append(argv[i + 1])
            elif arg.startswith(name + "=") and name.startswith("--"):
                values.append(arg.split("=", 1)[1])
            elif not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                values.append(arg[len(name) :])
    return values


def _http(argv: list[str]) -> CommandAnalysis:
    urls = [a for a in argv[1:] if a.startswith(("http://", "https://"))]
    url = urls[0] if urls else None
    method = (_flag_value(argv, "-X", "--request") or ["GET"])[0].upper()
    bodies = _flag_value(argv, "-d", "--data", "--data-raw", "--data-binary", "--json")
    host = urlsplit(url).hostname if url else None
    provider = PROVIDER_HOSTS.get(host or "")
    if bodies and method == "GET":
        method = "POST"
    operation = f"http {method}"
    if provider == "railway":
        for body in bodies:
            mutation, target = _graphql_mutation(body)
            if mutation:
                categories = railway.classify(mutation, {})
                return CommandAnalysis(
                    operation=f"railway.graphql:{mutation}",
                    destructive=bool(categories),
                    categories=tuple(categories),
                    target=target,
                    url=url,
                    provider=provider,
                )
    return CommandAnalysis(operation=operation, url=url, provider=provider)


_MUTATION = re.compile(r"\bmutation\b[^{]*\{\s*(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<args>[^)]*)\))?")
_ARG_VALUE = re.compile(r"\w+\s*:\s*\\?\"(?P<v>[^\"\\]+)\\?\"")


def _graphql_mutation(body: str) -> tuple[str | None, str | None]:
    query = body
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("query"), str):
            query = parsed["query"]
    except json.JSONDecodeError:
        pass
    match = _MUTATION.search(query)
    if not match:
        return None, None
    value = _ARG_VALUE.search(match.group("args") or "")
    return match.group("name"), value.group("v") if value else None


def _railway(argv: list[str]) -> CommandAnalysis:
    words = [a for a in argv[1:] if not a.startswith("-")]
    for length in (2, 1):
        key = tuple(words[:length])
        if key in railway.CLI:
            target = (_flag_value(argv, "--volume", "--service", "--environment", "-e") or [None])[
                0
            ]
            if target is None and len(words) > length:
                target = words[length]
            return CommandAnalysis(
                operation="railway " + " ".join(key),
                destructive=True,
                categories=railway.CLI[key],
                target=target,
                provider="railway",
            )
    return CommandAnalysis(operation=" ".join(["railway", *words[:1]]), provider="railway")


def _rm(argv: list[str]) -> CommandAnalysis:
    flags = "".join(a.lstrip("-") for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    long_flags = {a for a in argv[1:] if a.startswith("--")}
    targets = [a for a in argv[1:] if not a.startswith("-")]
    recursive = "r" in flags.lower() or "--recursive" in long_flags
    return CommandAnalysis(
        operation="rm",
        destructive=recursive,
        categories=("fs_delete",) if recursive else (),
        target=targets[0] if targets else None,
    )


def _git(argv: list[str]) -> CommandAnalysis:
    words = [a for a in argv[1:] if not a.startswith("-")]
    sub = words[0] if words else ""
    flags = set(argv[2:])
    destructive = (
        (sub == "reset" and "--hard" in flags)
        or (sub == "clean" and any(f.startswith("-") and "f" in f for f in flags))
        or (sub == "push" and bool(flags & {"-f", "--force", "--mirror"}))
        or (sub == "checkout" and "--" in argv and "." in argv)
        or (sub == "branch" and "-D" in flags)
    )
    return CommandAnalysis(
        operation=f"git {sub}".strip(),
        destructive=destructive,
        categories=("vcs_history_loss",) if destructive else (),
    )


def _search(argv: list[str]) -> CommandAnalysis:
    words = [a for a in argv[1:] if not a.startswith("-")]
    pattern = words[0] if words else ""
    hunting = bool(_SECRET_WORDS.search(pattern))
    return CommandAnalysis(
        operation=os.path.basename(argv[0]),
        categories=("credential_access",) if hunting else (),
    )


def _verb_destroys(verbs: tuple[str, ...], category: str) -> Callable[[list[str]], CommandAnalysis]:
    def handler(argv: list[str]) -> CommandAnalysis:
        words = [a for a in argv[1:] if not a.startswith("-")]
        hit = next((w for w in words[:3] if w.startswith(verbs)), None)
        operation = " ".join([os.path.basename(argv[0]), *words[:2]])
        return CommandAnalysis(
            operation=operation,
            destructive=hit is not None,
            categories=(category,) if hit else (),
            target=words[words.index(hit) + 1]
            if hit and words.index(hit) + 1 < len(words)
            else None,
        )

    return handler


_PROGRAMS: dict[str, Callable[[list[str]], CommandAnalysis]] = {
    "curl": _http,
    "wget": _http,
    "http": _http,
    "https": _http,
    "railway": _railway,
    "rm": _rm,
    "git": _git,
    "grep": _search,
    "rg": _search,
    "ag": _search,
    "terraform": _verb_destroys(("destroy",), "infra_destroy"),
    "kubectl": _verb_destroys(("delete",), "k8s_delete"),
    "aws": _verb_destroys(("delete-", "terminate-", "rb", "remove-"), "cloud_delete"),
    "gcloud": _verb_destroys(("delete",), "cloud_delete"),
    "az": _verb_destroys(("delete",), "cloud_delete"),
}


def quote(argv: list[str]) -> str:
    return shlex.join(argv)
