"""Code that runs code: shells (-c, stdin, heredocs), eval, and interpreter one-liners.

Shell code is parsed again with the same analyser (one level deeper). Python is read with
the `ast` module (shutil.rmtree, os.remove, subprocess and os.system calls with literal
arguments); other interpreters are scanned for their deletion APIs and for shell text in
their string literals.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from agentaudit.enrich.commands import packs
from agentaudit.enrich.commands.model import Finding
from agentaudit.enrich.commands.normalize import INPUT_AS_CODE
from agentaudit.enrich.commands.parse import SimpleCommand, is_dynamic
from agentaudit.enrich.commands.programs.base import Context
from agentaudit.enrich.commands.programs.fs import delete_severity
from agentaudit.enrich.commands.programs.http import request_findings

SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish", "ash", "mksh", "csh", "tcsh", "busybox"}
_FETCHERS = {"curl", "wget", "fetch", "http", "https", "xh", "aria2c"}
_DECODERS = {"base64", "xxd", "openssl", "rev", "gunzip", "zcat", "uudecode", "tr"}
_CODE_FLAGS = {
    "python": ("-c",),
    "node": ("-e", "--eval", "-p", "--print"),
    "deno": ("eval",),
    "bun": ("-e", "--eval"),
    "ruby": ("-e",),
    "perl": ("-e", "-E"),
    "php": ("-r",),
    "lua": ("-e",),
    "osascript": ("-e",),
    "pwsh": ("-c", "-command", "-Command"),
}
_INTERPRETER_ALIASES = {"python3": "python", "python2": "python", "pypy": "python",
                        "pypy3": "python", "nodejs": "node", "perl5": "perl"}  # fmt: skip
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|`((?:[^`\\]|\\.)*)`")
_API_DELETES = [
    (re.compile(r"\b(rmSync|rmdirSync|rm_rf|rm_r|remove_dir_all|rmtree|remove_entry_secure|RemoveAll|deleteRecursively)\b"), True),
    (re.compile(r"\b(unlinkSync|unlink|File\.delete|FileUtils\.rm|os\.Remove|fs\.rm|fs\.rmdir|Files\.delete)\b"), False),
]  # fmt: skip


def interpreter_of(program: str) -> str | None:
    name = _INTERPRETER_ALIASES.get(program, program)
    if re.fullmatch(r"python\d(\.\d+)?", name):
        name = "python"
    return name if name in _CODE_FLAGS else None


def shell(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    args = cmd.argv[1:]
    if cmd.program == "busybox":
        return []
    script: str | None = None
    i = 0
    command_mode = False
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            command_mode = True
        elif arg.startswith(("-", "+")):
            if arg in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 1
        else:
            break
        i += 1
    rest = args[i:]
    if not command_mode and rest and rest[0].startswith(("<(", "$(")):
        return code_from_command(cmd, rest[0])
    if command_mode:
        script = rest[0] if rest else None
    elif not rest or rest[0] == "-" or rest[0] == "-s":
        script = cmd.stdin
    fed = []
    if command_mode and INPUT_AS_CODE in cmd.wrappers:
        fed = [Finding("exec.input-as-code", "dynamic_exec", "medium",
                       f"{cmd.wrappers[-2]} runs its input lines as {cmd.program} code",
                       operation=f"{cmd.wrappers[-2]} {cmd.program} -c")]  # fmt: skip
    if script is None:
        return fed or _piped_code(cmd)
    if is_dynamic(script) and script.strip().startswith(("$", "`", '"$')):
        return [*fed, _dynamic(cmd, script)]
    return fed + ctx.analyze_script(script, cmd.depth + 1)


def _piped_code(cmd: SimpleCommand) -> list[Finding]:
    source = cmd.piped_from
    if not cmd.stdin_piped or not source or cmd.stdin is not None:
        return []
    if source in _FETCHERS:
        return [
            Finding("exec.remote-script", "remote_code_exec", "high",
                    f"{source} output piped into {cmd.program}: runs code fetched from the network",
                    operation=f"{source} | {cmd.program}")
        ]  # fmt: skip
    if source in _DECODERS:
        return [
            Finding("exec.decoded-script", "dynamic_exec", "high",
                    f"{source} output piped into {cmd.program}: runs obfuscated code",
                    operation=f"{source} | {cmd.program}")
        ]  # fmt: skip
    return []


def _dynamic(cmd: SimpleCommand, script: str) -> Finding:
    return Finding("exec.dynamic", "dynamic_exec", "medium",
                   f"{cmd.program} runs code known only at run time ({script[:40]})",
                   operation=cmd.program)  # fmt: skip


_SUBSTITUTED = re.compile(r"^\s*[<$]\((?P<inner>.*)\)\s*$|^\s*`(?P<tick>[^`]*)`\s*$", re.S)


def code_from_command(cmd: SimpleCommand, text: str) -> list[Finding]:
    """Code that is another command's output: `bash <(curl ...)`, `source <(...)`,
    `eval "$(curl ...)"`. Fetched from the network: remote code; decoded: hidden code; a
    local tool's setup output (`ssh-agent -s`, `direnv hook bash`, completions): nothing."""
    match = _SUBSTITUTED.match(text)
    inner = (match.group("inner") or match.group("tick") or "") if match else text
    programs = {w.rsplit("/", 1)[-1] for w in re.findall(r"(?:^|[|;&(]\s*)([\w./-]+)", inner)}
    if programs & _FETCHERS:
        return [Finding("exec.remote-script", "remote_code_exec", "high",
                        f"{cmd.program} runs code fetched from the network ({inner.strip()[:60]})",
                        operation=f"{cmd.program} <(fetch)")]  # fmt: skip
    if programs & _DECODERS:
        return [Finding("exec.decoded-script", "dynamic_exec", "high",
                        f"{cmd.program} runs decoded code ({inner.strip()[:60]})",
                        operation=f"{cmd.program} <(decode)")]  # fmt: skip
    if match is None:
        return [_dynamic(cmd, text)]
    return []


def scheduled(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`echo CMD | at now + 1 minute`, `batch`: the job text runs later, outside the session."""
    if cmd.stdin is None:
        return []
    return [
        _with_reason(f, f" [scheduled with {cmd.program}]")
        for f in ctx.analyze_script(cmd.stdin, cmd.depth + 1)
    ]


def _with_reason(finding: Finding, suffix: str) -> Finding:
    return replace(finding, reason=finding.reason + suffix)


def source(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    args = [a for a in cmd.argv[1:] if not a.startswith("-")]
    if args and args[0].startswith(("<(", "$(")):
        return code_from_command(cmd, args[0])
    return []


def eval_(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    script = " ".join(cmd.argv[1:])
    if not script:
        return []
    if _SUBSTITUTED.match(script):
        return code_from_command(cmd, script)
    if is_dynamic(script) and not ctx.analyze_script(script, cmd.depth + 1):
        return [_dynamic(cmd, script)]
    return ctx.analyze_script(script, cmd.depth + 1)


def rails_runner(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    """`rails runner CODE` / `gitlab-rails runner CODE` evaluate Ruby."""
    args = cmd.argv[1:]
    if args[:1] == ["runner"] and len(args) > 1:
        return other_code(args[-1], cmd, ctx)
    return packs.match(cmd)  # rails db:drop and friends live in the data pack


def interpreter(cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    language = interpreter_of(cmd.program)
    if language is None:
        return []
    flags = _CODE_FLAGS[language]
    args = cmd.argv[1:]
    code: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in flags and i + 1 < len(args):
            code = args[i + 1]
            break
        if len(arg) > 2 and arg[:2] in flags and not arg.startswith("--"):
            code = arg[2:]
            break
    positional = [a for a in args if not a.startswith("-")]
    if code is None and positional and positional[0].startswith("<("):
        return code_from_command(cmd, positional[0])
    if code is None and (not positional or positional[0] == "-") and cmd.stdin:
        code = cmd.stdin
    if code is None:
        # `python manage.py flush`: a script with arguments; the packs know some of them
        return _piped_code(cmd) + packs.match(replace(cmd, argv=[language, *args]))
    if language == "python":
        return python_code(code, cmd, ctx)
    return other_code(code, cmd, ctx)


def python_code(code: str, cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return other_code(code, cmd, ctx)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        first = _literal(node.args[0]) if node.args else None
        if name.endswith(("rmtree", "remove_tree")):
            findings += _api_delete("python.rmtree", name, first, True, cmd, ctx)
        elif name in (
            "os.remove",
            "os.unlink",
            "os.rmdir",
            "remove",
            "unlink",
            "os.removedirs",
        ) or (name.endswith((".unlink", ".rmdir")) and "Path" in name):
            findings += _api_delete("python.remove", name, first, name == "os.removedirs", cmd, ctx)
        elif name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
                      "commands.getoutput", "pty.spawn") or name.startswith("subprocess.") or name.startswith("os.exec") or name.startswith("os.spawn"):  # fmt: skip
            script = _command_text(node)
            if script:
                findings += ctx.analyze_script(script, cmd.depth + 1)
        else:
            findings += _python_http(node, name)
    return findings


_HTTP_VERBS = {"delete": "DELETE", "post": "POST", "put": "PUT", "patch": "PATCH"}


def _python_http(call: ast.Call, name: str) -> list[Finding]:
    """requests/httpx/session `.delete(url)`, `.request('DELETE', url)`, `Request(url,
    method='DELETE')` (urllib), and GraphQL bodies posted with them."""
    last = name.rsplit(".", 1)[-1].lower()
    literals = [_literal(a) or "" for a in call.args]
    keywords = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
    method = keywords.get("method") or _HTTP_VERBS.get(last)
    if last == "request" and literals and literals[0].upper() in _HTTP_VERBS.values():
        method, literals = literals[0], literals[1:]
    url = next((t for t in [*literals, keywords.get("url") or ""] if "://" in t), None)
    if not method or not url:
        return []
    bodies = [ast.unparse(k.value) for k in call.keywords if k.arg in ("json", "data", "content")]
    return request_findings(method, url, bodies)


_JS_METHOD = re.compile(r"""method\s*:\s*['"`](DELETE|POST|PUT|PATCH)['"`]""", re.I)
_URL_LITERAL = re.compile(r"""['"`](https?://[^'"`\s]+)['"`]""")


def _code_http(code: str) -> list[Finding]:
    """fetch(url, {method: 'DELETE'}), axios.delete(url), GraphQL mutations in the body."""
    method = _JS_METHOD.search(code)
    axios = re.search(
        r"\b(axios|got|ky|superagent|\$http|http)\.(delete|post|put|patch)\s*\(", code
    )
    verb = method.group(1) if method else axios.group(2) if axios else None
    url = _URL_LITERAL.search(code)
    if not verb or not url:
        return []
    return request_findings(verb, url.group(1), [code] if "mutation" in code else [])


def _call_name(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    elif isinstance(func, ast.Call):
        parts.append(_call_name(func.func))
    return ".".join(reversed(parts))


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:  # Path('/x')
        return _literal(node.args[0])
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "$VAR" for v in node.values)  # type: ignore[misc]
    if isinstance(node, (ast.Attribute, ast.Name)):
        return "$VAR"
    return None


def _command_text(call: ast.Call) -> str | None:
    if not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, (ast.List, ast.Tuple)):
        words = [_literal(e) or "$VAR" for e in arg.elts]
        if (
            words
            and words[0] in ("bash", "sh", "zsh")
            and len(words) >= 3
            and words[1].startswith("-")
        ):
            return words[2]
        return " ".join(_shell_quote(w) for w in words)
    text = _literal(arg)
    return text


def _shell_quote(word: str) -> str:
    return (
        word if re.fullmatch(r"[\w@%+=:,./~$-]+", word) else "'" + word.replace("'", "'\\''") + "'"
    )


def _api_delete(
    rule: str, name: str, target: str | None, recursive: bool, cmd: SimpleCommand, ctx: Context
) -> list[Finding]:
    target = target or "$VAR"
    severity, scope = delete_severity(target, recursive, cmd, ctx)
    return [
        Finding(rule, "fs_delete", severity, f"{name}({target}) deletes {scope} files",
                operation=name, target=target, scope=scope)
    ]  # fmt: skip


_API_VERB = re.compile(
    r"\.(?P<name>(delete|drop|destroy|remove|clear|purge|truncate|flush|wipe|cancel)\w*)\s*(\(|$|;|\s|\")",
    re.I,
)


def api_calls(code: str, cmd: SimpleCommand | None, ctx: Context) -> list[Finding]:
    """SDK calls whose method destroys things: client.deleteIndex('prod'), gateway.customer.delete(..)."""
    match = _API_VERB.search(code)
    if not match:
        return []
    return [
        Finding("code.api-destroy", "cloud_delete", "medium",
                f"calls {match.group('name')}() on an API client", operation=match.group("name"))
    ]  # fmt: skip


def other_code(code: str, cmd: SimpleCommand, ctx: Context) -> list[Finding]:
    findings: list[Finding] = _code_http(code) or api_calls(code, cmd, ctx)
    literals = [next(g for g in m.groups() if g is not None) for m in _STRING.finditer(code)]
    for pattern, recursive in _API_DELETES:
        match = pattern.search(code)
        if match:
            after = code[match.end() :]
            target = next(
                (
                    m.group(1) or m.group(2)
                    for m in [re.search(r"""\(\s*(?:'([^']*)'|"([^"]*)")""", after)]
                    if m
                ),
                None,
            )
            if recursive or target:
                findings += _api_delete(
                    f"code.{match.group(1)}", match.group(1), target, recursive, cmd, ctx
                )
    # shell commands inside string literals (system("rm -rf /"), execSync('...'), `...`)
    for text in literals:
        if " " in text:
            findings += ctx.analyze_script(text, cmd.depth + 1)
    if not findings:
        findings += ctx.analyze_script(code, cmd.depth + 1)  # `node -e "rm -rf /"`
    return findings


PROGRAMS = {name: shell for name in SHELLS} | {
    "eval": eval_,
    "source": source,
    ".": source,
    "at": scheduled,
    "batch": scheduled,
    "rails": rails_runner,
    "gitlab-rails": rails_runner,
}
