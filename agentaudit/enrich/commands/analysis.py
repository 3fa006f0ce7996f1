"""Command analysis: what a command line really does, decided the way the shell would run it.

`analyze_command(cmd, cwd=...)` parses with tree-sitter-bash (`parse.py`), strips wrappers
(`normalize.py`), recurses into code that runs code (`programs/inline.py`), and classifies
each simple command with the per-program analysers (`programs/`) and the YAML rule packs
(`packs/`). Input the grammar rejects is marked unparsed, analysed with a token fallback as
well, and its findings are raised one severity level: unparsed is never "safe".
"""

from __future__ import annotations

import dataclasses
import posixpath
from functools import lru_cache

from agentaudit.enrich.catalog import providers
from agentaudit.enrich.commands import flows, locality, packs
from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import (
    CommandAnalysis,
    Finding,
    max_severity,
    raise_severity,
    rank,
)
from agentaudit.enrich.commands.modes import harmless_mode
from agentaudit.enrich.commands.normalize import canonicalize
from agentaudit.enrich.commands.parse import SimpleCommand, fallback_split, parse
from agentaudit.enrich.commands.programs import (
    aws,
    control,
    db,
    fs,
    git,
    http,
    hygiene,
    inline,
    migrations,
    persistence,
    powershell,
    railway_cli,
    secret_stores,
    settings,
)
from agentaudit.enrich.commands.programs.base import Analyser, Context

MAX_DEPTH = 5
MAX_ANALYSED_CHARS = 8192  # of one command line's head and tail (a 400 KB line took 12.5 s)
MAX_SIMPLE_COMMANDS = 1000  # per script: each costs ~1 ms in the packs, `$(` x 8192 took 5 s
_PROGRAMS: dict[str, Analyser] = {
    **fs.PROGRAMS,
    **git.PROGRAMS,
    **db.PROGRAMS,
    **http.PROGRAMS,
    **control.PROGRAMS,
    **inline.PROGRAMS,
    **railway_cli.PROGRAMS,
    **aws.PROGRAMS,
    **settings.PROGRAMS,
    **powershell.PROGRAMS,
    "awslocal": aws.aws,
}
_ALWAYS: tuple[Analyser, ...] = (
    hygiene.secret_reads,
    secret_stores.secret_store_reads,
    hygiene.audit_tamper,
    hygiene.safety_bypass,
    fs.redirect_overwrites,
    persistence.persistence,
    persistence.watcher_kill,
)
# Programs whose arguments are data (text to print, search or count), never commands.
_DATA_ONLY = {
    "echo", "printf", "true", ":", "false", "man", "which", "type", "whatis", "apropos", "help",
    "cat", "head", "tail", "wc", "less", "more", "grep", "egrep", "fgrep", "rg", "ag", "ack",
    "sed", "awk", "sort", "uniq", "cut", "tr", "diff", "file", "stat", "ls", "tree", "du", "df",
    "jq", "yq", "tee", "read", "test", "[", "[[", "cd", "pushd", "popd", "pwd", "basename",
    "dirname", "realpath", "readlink", "whoami", "date", "sleep", "wait", "exit", "return",
    "local", "shift", "alias", "unalias", "hash", "column", "fold", "fmt", "nl", "tac", "rev",
    "comm", "join", "paste", "expand", "look", "cmp", "md5sum", "sha256sum", "shasum", "touch",
    "mkdir", "cp", "ln", "git-lfs", "bat", "glow", "mdcat", "code", "vim", "vi", "nano", "emacs",
    "open", "xdg-open", "whereis", "locate", "pbcopy", "pbpaste", "xclip", "clear", "reset", "tput", "stty", "let",
}  # fmt: skip
_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in",
             "case", "esac", "!", "{", "}", "function", "time", "select"}  # fmt: skip


def analyze(command: str) -> CommandAnalysis:
    """Analyse one command line with no cwd (relative paths count as the project)."""
    return analyze_command(command)


@lru_cache(maxsize=65536)
def analyze_command(
    command: str, cwd: str | None = None, home: str | None = None
) -> CommandAnalysis:
    """Analyse one command line (cached: agents repeat themselves). Of a line longer than
    `MAX_ANALYSED_CHARS` only its head and its tail of that size are analysed (the analysis
    is not linear in the length): the result is marked unparsed and says so, never safe."""
    cwd = cwd.rstrip("/") or "/" if cwd else None
    # bash drops NUL bytes from a command line; the grammar's error recovery is slow on them
    command = command.replace("\x00", "")
    cut = len(command) > MAX_ANALYSED_CHARS
    argvs: list[list[str]] = []
    try:
        head = command[:MAX_ANALYSED_CHARS]
        findings, programs, unparsed = _analyze_script(head, 0, cwd, home, argvs=argvs)
        if cut:
            tail = _analyze_script(command[-MAX_ANALYSED_CHARS:], 0, cwd, home, argvs=argvs)
            findings, programs = findings + tail[0], programs + tail[1]
    except (RecursionError, ValueError, IndexError, KeyError, TypeError) as exc:
        # one odd command must never stop an ingest: it is unparsed, not safe
        reason = f"analyser error {type(exc).__name__}: {exc}"[:200]
        words = _token_argvs(command[:MAX_ANALYSED_CHARS])
        return CommandAnalysis(severity="low", unparsed=True, reasons=(reason,), argvs=words)
    analysis = _roll_up(findings, programs, unparsed or cut)
    reasons = analysis.reasons
    if cut:
        reason = (
            f"only the first and last {MAX_ANALYSED_CHARS} of {len(command)} characters analysed"
        )
        reasons = (*reasons, reason)
    return dataclasses.replace(
        analysis, reasons=reasons, argvs=tuple(tuple(argv) for argv in argvs)
    )


def _token_argvs(script: str) -> tuple[tuple[str, ...], ...]:
    """argv of each command by the token fallback, the common wrappers dropped."""
    found = []
    for argv in fallback_split(script):
        while argv and (argv[0] in ("sudo", "env", "command", "exec", "nohup") or "=" in argv[0]):
            argv = argv[1:]
        if argv:
            found.append(tuple(argv))
    return tuple(found)


def _analyze_script(
    script: str,
    depth: int,
    cwd: str | None,
    home: str | None,
    remote: bool = False,
    argvs: list[list[str]] | None = None,
) -> tuple[list[Finding], list[str], bool]:
    """Findings, programs and whether the grammar rejected it; `argvs` (top level only)
    receives the argv of each simple command that runs, wrappers stripped."""
    if depth > MAX_DEPTH:
        return (
            [Finding("exec.too-deep", "dynamic_exec", "medium", "code nested too deep to follow")],
            [],
            True,
        )

    def recurse(inner: str, inner_depth: int) -> list[Finding]:
        return _analyze_script(inner, inner_depth, cwd, home, remote)[0]

    def recurse_remote(inner: str, inner_depth: int) -> list[Finding]:
        return _analyze_script(inner, inner_depth, cwd, home, True)[0]

    ctx = Context(cwd, home, recurse, cwd, recurse_remote)
    parsed = parse(script, depth)
    commands = parsed.commands
    for command in commands if remote else ():
        command.remote = True
    if parsed.has_error:
        for argv in fallback_split(script):
            while argv and argv[0] in _RESERVED:
                argv = argv[1:]
            if argv:
                commands = [*commands, SimpleCommand(argv, depth=depth)]
    too_many = len(commands) > MAX_SIMPLE_COMMANDS
    commands = commands[:MAX_SIMPLE_COMMANDS]
    findings: list[Finding] = []
    programs: list[str] = []
    canonical: list[SimpleCommand] = []
    if argvs is not None and parsed.has_error:
        argvs += [list(argv) for argv in _token_argvs(script)]
    for raw in commands:
        for cmd in canonicalize(raw):
            canonical.append(cmd)
            if argvs is not None and not parsed.has_error and cmd.argv:
                argvs.append(list(cmd.argv))
            programs.append(cmd.program)
            findings += analyse_simple(cmd, ctx)
            if cmd.program in ("cd", "pushd") and len(cmd.argv) > 1:
                ctx = Context(
                    _changed_dir(ctx.cwd, cmd.argv[-1]), home, recurse, cwd, recurse_remote
                )
    findings += flows.credential_exfil(canonical)
    findings += flows.downloaded_then_run(canonical, recurse)
    findings += flows.destroy_plan_applied(canonical)
    if parsed.has_error:
        findings += inline.api_calls(script, None, ctx)  # SDK calls typed as a command
        findings = [_raised(f) for f in findings]
    return _dedup(findings), list(dict.fromkeys(programs)), parsed.has_error or too_many


def analyse_simple(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    if cmd.remote and ctx.analyze_remote is not None:
        ctx = dataclasses.replace(ctx, analyze_script=ctx.analyze_remote)
    mode = harmless_mode(invocation(cmd.program, cmd.argv[1:]))
    if mode == "help":
        return []  # a help page runs nothing
    findings: list[Finding] = []
    for check in _ALWAYS:
        findings += check(cmd, ctx)
    if cmd.program in _DATA_ONLY or mode:
        return findings
    handler = _PROGRAMS.get(cmd.program) or powershell.handler_for(cmd.program)
    if handler is None:
        handler = next(
            (h for p, h in fs.PREFIX_PROGRAMS.items() if cmd.program.startswith(p)), None
        )
    if handler is None and inline.interpreter_of(cmd.program):
        handler = inline.interpreter
    if handler is None and ("(" in cmd.program or (cmd.argv[1:2] and cmd.argv[1].startswith("("))):
        # code typed as a command (a REPL transcript): client.customer.delete('id')
        findings += inline.api_calls("".join(cmd.argv), cmd, ctx)
    elif handler is not None:
        findings += handler(cmd, ctx)
    else:
        matched = packs.match(cmd)
        provider = providers.CLIS.get(cmd.program)
        findings += [
            _with(f, provider=provider, scope="remote" if provider else f.scope) for f in matched
        ]
    if cmd.program not in inline.PROGRAMS and not inline.interpreter_of(cmd.program):
        findings += settings.destructive_settings(cmd, ctx)
        findings += db.embedded_sql(cmd, ctx)
    findings += migrations.schema_task(cmd, ctx)
    if any(f.destructive for f in findings) and hygiene.assume_yes(cmd.argv):
        top = max((f for f in findings if f.destructive), key=lambda f: rank(f.severity))
        findings.append(
            _with(top, category="safety_bypass", rule_id="bypass.assume-yes",
                  reason=f"confirmation skipped on a destructive command ({top.operation})")
        )  # fmt: skip
    if cmd.local or (not cmd.remote and any(_service_finding(f) for f in findings)):
        findings = _local_target(cmd, findings)
    if cmd.via:  # run by another command: the outer one says where (host, pod, app)
        findings = [
            _with(f, reason=f"{f.reason} [via {cmd.via}]",
                  scope=f.scope if f.scope in ("temp",) else "remote" if cmd.remote else f.scope)
            for f in findings
        ]  # fmt: skip
    return findings


def _service_finding(finding: Finding) -> bool:
    """Its target is a service (a database, a cluster, a cloud account's trail), not a path."""
    return finding.category in locality.RESOURCE_CATEGORIES or (
        finding.category == "audit_tamper" and finding.scope == "remote"
    )


def _local_target(cmd: SimpleCommand, findings: list[Finding]) -> list[Finding]:
    """Destruction of a local or test service is low (issue 15); paths keep their own rating."""
    why = cmd.local or locality.local_target(invocation(cmd.program, cmd.argv[1:]), cmd.env)
    if why is None:
        return findings
    lowered = [
        _with(f, severity=min(f.severity, "low", key=rank), scope="local",
              reason=f"{f.reason} [local target: {why}]")
        if cmd.local or _service_finding(f) or f.rule_id == "bypass.assume-yes"
        else f
        for f in findings
    ]  # fmt: skip
    return lowered


def _changed_dir(cwd: str | None, target: str) -> str | None:
    """cwd after `cd target`; a move we cannot place makes later relative paths unknown."""
    if target.startswith("/"):
        return posixpath.normpath(target)
    if cwd and not target.startswith(("~", "$", "-")):
        return posixpath.normpath(posixpath.join(cwd, target))
    if cwd is None and not target.startswith(("..", "~", "$", "-")):
        return None  # a subdirectory of the project: still the project
    return "$CWD"  # ~, $VAR, - or above an unknown project dir


def _with(finding: Finding, **changes: object) -> Finding:
    values = {name: getattr(finding, name) for name in Finding.__slots__}
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def _raised(finding: Finding) -> Finding:
    return _with(
        finding,
        severity=raise_severity(finding.severity),
        reason=finding.reason + " [unparsed input]",
    )


def _dedup(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.rule_id, f.category, f.target)
        if key not in seen or rank(f.severity) > rank(seen[key].severity):
            seen[key] = f
    return list(seen.values())


def _roll_up(findings: list[Finding], programs: list[str], unparsed: bool) -> CommandAnalysis:
    ordered = sorted(findings, key=lambda f: (-rank(f.severity), not f.destructive))
    main = ordered[0] if ordered else None
    severity = max_severity(*(f.severity for f in findings)) if findings else "info"
    if unparsed and not findings:
        severity = "low"  # never "safe": the shell might read it differently than we did
    destructive = [f for f in ordered if f.destructive]
    primary = destructive[0] if destructive else main
    url = next((f.url for f in ordered if f.url), None)
    return CommandAnalysis(
        operation=primary.operation if primary else (programs[0] if programs else None),
        destructive=bool(destructive),
        categories=tuple(dict.fromkeys(f.category for f in ordered)),
        target=primary.target if primary else None,
        url=url,
        provider=next((f.provider for f in ordered if f.provider), None),
        programs=tuple(programs),
        severity=severity,
        scope=primary.scope if primary else None,
        targets=tuple(dict.fromkeys(f.target for f in ordered if f.target)),
        rule_ids=tuple(dict.fromkeys(f.rule_id for f in ordered)),
        reasons=tuple(dict.fromkeys(f.reason for f in ordered)),
        unparsed=unparsed,
        findings=tuple(ordered),
    )
