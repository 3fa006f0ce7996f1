"""Shell parsing: a command line -> the simple commands a shell would run, in order.

tree-sitter-bash gives the syntax tree; this module walks it the way bash expands words:
quote removal (`r''m` -> `rm`), backslash escapes, `$IFS` as a separator, variables assigned
earlier in the same line (`x=rm; $x -rf /`), command substitutions whose value is a literal
(`$(echo rm)`), and commands nested in `$( )`, backticks, `<( )` and `>( )`. Pipelines carry
the literal output of one stage into the next (`echo / | xargs rm -rf`, `cat <<EOF | sh`,
`echo cm0gLXJmIC8= | base64 -d | sh`). tree-sitter never raises; `has_error` marks input the
grammar rejects, and the caller analyses it with the token fallback as well.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

_LANGUAGE = Language(tree_sitter_bash.language())
_SPLIT = "\x00"  # marks an unquoted $IFS or substitution result: word splitting happens there
_REDIRECT_TYPES = {"file_redirect", "heredoc_redirect", "herestring_redirect"}
_LOOP_VALUES = 4
_BARE_IFS = re.compile(r"\$IFS(?![A-Za-z0-9_])")
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_DYNAMIC = re.compile(r"\$\{?[A-Za-z_@*#?0-9]|\$\(|`")


@dataclass(slots=True)
class SimpleCommand:
    """One simple command: argv after expansion, its inline env, stdin text and redirects."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None  # literal text fed on stdin (heredoc, here-string, pipe)
    stdin_piped: bool = False  # stdin comes from another command, literal or not
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (operator, target)
    depth: int = 0  # how deep in code-that-runs-code this command was found
    wrappers: list[str] = field(default_factory=list)  # sudo, env, xargs... stripped off
    remote: bool = False  # runs on another host (ssh host cmd)
    piped_from: str | None = None  # program of the previous pipeline stage
    via: str | None = None  # where it runs when another command runs it (kubectl exec pod ...)
    local: str | None = None  # why that place is this machine or a test setup (kind context)
    upstream: list[list[str]] = field(default_factory=list)  # argv of earlier pipeline stages

    @property
    def program(self) -> str:
        return self.argv[0] if self.argv else ""


@dataclass(slots=True)
class ParsedScript:
    commands: list[SimpleCommand]
    has_error: bool


def is_dynamic(word: str) -> bool:
    """A word whose value the shell only knows at run time ($VAR, $(cmd), `cmd`)."""
    return bool(_DYNAMIC.search(word))


@lru_cache(maxsize=8)
def _parser() -> Parser:
    return Parser(_LANGUAGE)


def parse(script: str, depth: int = 0) -> ParsedScript:
    # the grammar splits `$IFS-rf` oddly after a concatenation; the braced form parses cleanly
    script = _BARE_IFS.sub("${IFS}", script)
    # Unicode dashes (U+2010..U+2015, U+2212) read as `-` by people, pasted by agents
    script = _DASHES.sub("-", script)
    tree = _parser().parse(script.encode("utf-8", "surrogateescape"))
    walker = _Walker(depth)
    walker.walk(tree.root_node)
    return ParsedScript(walker.commands, tree.root_node.has_error)


def fallback_split(script: str) -> list[list[str]]:
    """Token fallback for input the grammar rejects: shlex words split at operators."""
    text = script.replace("\\\r\n", "").replace("\\\n", "")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: drop the quote characters, keep the words
        tokens = re.split(r"\s+", re.sub(r"['\"]", " ", text))
        tokens = [t for t in tokens if t]
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set(";&|()<>"):
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "surrogateescape") if node.text else ""


def _unescape_unquoted(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text.replace("\\\n", ""))


def _unescape_double(text: str) -> str:
    return re.sub(r'\\([$`"\\])', r"\1", text.replace("\\\n", ""))


def _decode_escapes(text: str) -> str:
    """printf's escapes: \\n, \\t, \\xHH, \\NNN (octal), \\uHHHH."""
    try:
        return codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return text.replace("\\n", "\n")


def literal_output(command: SimpleCommand) -> str | None:
    """What a command prints, when that is knowable from its words alone."""
    argv = command.argv
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if any(is_dynamic(a) for a in args):
        return None
    if name == "echo":
        words = [a for a in args if a not in ("-n", "-e", "-E")]
        return " ".join(words) + "\n"
    if name == "printf" and args:
        fmt = _decode_escapes(args[0])
        if "%b" in fmt:  # %b: the argument's own escapes are decoded too
            return fmt.replace("%b", " ".join(_decode_escapes(a) for a in args[1:]))
        return fmt.replace("%s", " ".join(args[1:])) if "%s" in fmt else fmt
    if (
        name in ("cat", "tee")
        and command.stdin is not None
        and not [a for a in args if not a.startswith("-")]
    ):
        return command.stdin
    decoding = {"-d", "--decode", "-D"} & set(args)
    if name in ("base64", "openssl") and command.stdin is not None and decoding:
        try:
            return base64.b64decode(command.stdin.strip(), validate=False).decode(
                "utf-8", "replace"
            )
        except (binascii.Error, ValueError):
            return None
    if name == "xxd" and "-r" in args and command.stdin is not None:
        try:
            return bytes.fromhex(re.sub(r"\s", "", command.stdin)).decode("utf-8", "replace")
        except ValueError:
            return None
    if name == "rev" and command.stdin is not None:
        return "\n".join(line[::-1] for line in command.stdin.splitlines()) + "\n"
    return None


class _Walker:
    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.commands: list[SimpleCommand] = []
        self.env: dict[str, str] = {}

    # statements -----------------------------------------------------------------------
    def walk(self, node: Node) -> None:
        kind = node.type
        if kind == "command":
            self._emit(self._command(node))
        elif kind == "redirected_statement":
            self._redirected(node)
        elif kind == "pipeline":
            self._pipeline(node)
        elif kind == "variable_assignment":
            self._assign(node)
        elif kind == "for_statement":
            variable = node.child_by_field_name("variable")
            values = [self._word(c)[0] for c in node.children_by_field_name("value")]
            values = [w for v in values for w in re.split(r"[\x00\s]+", v) if w] or [""]
            body = [c for c in node.children if c.type not in ("variable_name", "word")]
            # the body once per literal value (a few are enough to see every target kind)
            for value in values[:_LOOP_VALUES]:
                if variable is not None:
                    name = _text(variable)
                    self.env[name] = value or f"${name}"
                for child in body:
                    self.walk(child)
        elif kind == "comment":
            return
        elif kind == "unset_command":
            words = [self._word(c)[0] for c in node.children if c.is_named]
            self._emit(SimpleCommand(["unset", *words], depth=self.depth))
        else:
            for child in node.children:
                self.walk(child)

    def _emit(self, command: SimpleCommand | None) -> None:
        if command is not None:
            self.commands.append(command)

    def _assign(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        self._nested(node)
        if name is not None:
            text = self._word(value)[0].replace(_SPLIT, " ") if value is not None else ""
            self.env[_text(name)] = text
            # `export HISTFILE=/dev/null` changes the shell itself: keep it visible
            self._emit(SimpleCommand(["export", f"{_text(name)}={text}"], depth=self.depth))

    def _pipeline(self, node: Node) -> None:
        previous: SimpleCommand | None = None
        piped = False
        upstream: list[list[str]] = []
        group_output: str | None = None  # what a `( ...; echo x )` stage prints, when known
        for child in node.children:
            if child.type in ("|", "|&"):
                piped = True
                continue
            if not child.is_named:
                continue
            stdin = literal_output(previous) if previous is not None else group_output
            start = len(self.commands)
            stage = self._stage(child, stdin, piped)
            emitted = self.commands[start:]
            for command in emitted:
                command.upstream = [*upstream, *command.upstream]
            if stage is not None and previous is not None:
                stage.piped_from = previous.program
            outputs = [o for o in (literal_output(c) for c in emitted) if o]
            group_output = "".join(outputs) if stage is None and outputs else None
            upstream += [c.argv for c in emitted]
            previous = stage

    def _stage(self, node: Node, stdin: str | None, piped: bool) -> SimpleCommand | None:
        if node.type == "command":
            command = self._command(node, stdin, piped)
            self._emit(command)
            return command
        if node.type == "redirected_statement":
            return self._redirected(node, stdin, piped)
        self.walk(node)
        return None

    def _redirected(
        self, node: Node, stdin: str | None = None, piped: bool = False
    ) -> SimpleCommand | None:
        body = node.child_by_field_name("body")
        redirects: list[tuple[str, str]] = []
        extra_args: list[str] = []
        trailing: list[Node] = []
        for child in node.children:
            if child.type == "file_redirect":
                redirects.append(self._file_redirect(child, extra_args))
                self._nested(child)
            elif child.type == "heredoc_redirect":
                stdin = self._heredoc_body(child)
                trailing += [c for c in child.children if c.type in ("pipeline", "command", "list")]
                piped = True
            elif child.type == "herestring_redirect":
                stdin = self._herestring(child)
                piped = True
        command: SimpleCommand | None = None
        if body is not None and body.type == "command":
            command = self._command(body, stdin, piped)
            if command is not None:
                command.redirects += redirects
                command.argv += extra_args
            self._emit(command)
        elif body is not None:
            self.walk(body)
        elif redirects:  # `> ~/.zsh_history` alone truncates the file
            command = SimpleCommand([":"], redirects=redirects, depth=self.depth)
            self._emit(command)
        # `cat <<EOF | sh`: the grammar hangs the rest of the pipeline off the heredoc
        for extra in trailing:
            if extra.type == "pipeline":
                feed = literal_output(command) if command is not None else None
                previous = None
                for stage in (c for c in extra.children if c.is_named):
                    stage_in = feed if previous is None else literal_output(previous)
                    previous = self._stage(stage, stage_in, True)
            else:
                self.walk(extra)
        return command

    def _file_redirect(self, node: Node, extra_args: list[str]) -> tuple[str, str]:
        """(operator, target); words after the target are arguments (`rm -rf 2>/dev/null /`)."""
        op = next((_text(c) for c in node.children if not c.is_named), ">")
        targets = node.children_by_field_name("destination")
        for word in targets[1:]:
            extra_args += self._split(self._word(word))
        return op, self._word(targets[0])[0] if targets else ""

    def _heredoc_body(self, node: Node) -> str:
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        if body is None:
            return ""
        self._nested(body)
        return _text(body)

    def _herestring(self, node: Node) -> str:
        for child in node.children:
            if child.is_named:
                return self._word(child)[0].replace(_SPLIT, " ")
        return ""

    # commands and words ---------------------------------------------------------------
    def _command(
        self, node: Node, stdin: str | None = None, piped: bool = False
    ) -> SimpleCommand | None:
        env: dict[str, str] = {}
        words: list[str] = []
        redirects: list[tuple[str, str]] = []
        self._nested(node)
        for child in node.children:
            kind = child.type
            if kind == "variable_assignment" and not words:
                name = child.child_by_field_name("name")
                value = child.child_by_field_name("value")
                if name is not None:
                    env[_text(name)] = (
                        self._word(value)[0].replace(_SPLIT, " ") if value is not None else ""
                    )
            elif kind == "command_name":
                target = child.children[0] if child.children else child
                words += self._split(self._word(target))
            elif kind == "herestring_redirect":
                stdin = self._herestring(child)
                piped = True
            elif kind == "file_redirect":
                extra: list[str] = []
                redirects.append(self._file_redirect(child, extra))
                words += extra
            elif child.is_named and kind not in ("comment", "subscript"):
                words += self._split(self._word(child))
        if not words and not env:
            return None
        if not words:  # `FOO=1` alone sets a shell variable
            self.env.update(env)
            words = ["export", *(f"{k}={v}" for k, v in env.items())]
            return SimpleCommand(words, depth=self.depth)
        if words[0] == "read" and stdin is not None:
            self._read(words[1:], stdin, env.get("IFS", self.env.get("IFS")))
        return SimpleCommand(words, env, stdin, piped, redirects, self.depth)

    def _read(self, args: list[str], text: str, ifs: str | None) -> None:
        """`IFS=_ read -r a b c <<< 'kubectl_delete_namespace'` assigns the fields."""
        names = [a for a in args if not a.startswith("-")]
        if not names:
            return
        line = text.splitlines()[0] if text else ""
        fields = re.split("[" + re.escape(ifs or " \t") + "]+", line.strip(ifs or None))
        for i, name in enumerate(names):
            last = i == len(names) - 1
            self.env[name] = (
                (ifs or " ")[0].join(fields[i:]) if last else (fields[i] if i < len(fields) else "")
            )

    def _nested(self, node: Node) -> None:
        """Commands inside substitutions run before the command that contains them."""
        for child in node.children:
            if child.type in ("command_substitution", "process_substitution"):
                for inner in child.children:
                    if inner.is_named:
                        self.walk(inner)
            elif child.type not in ("heredoc_redirect", "pipeline", "command", "list"):
                self._nested(child)

    def _split(self, value: tuple[str, bool]) -> list[str]:
        text, _ = value
        if _SPLIT in text:
            return [w for w in re.split(r"[\x00\s]+", text) if w]
        return [text]

    def _word(self, node: Node | None) -> tuple[str, bool]:
        """(value, quoted): the word after quote removal and literal expansions."""
        if node is None:
            return "", False
        kind = node.type
        if kind == "word" or kind == "number":
            return _unescape_unquoted(_text(node)), False
        if kind == "raw_string":
            return _text(node)[1:-1], True
        if kind == "ansi_c_string":
            try:
                return codecs.decode(_text(node)[2:-1], "unicode_escape"), True
            except UnicodeDecodeError:
                return _text(node)[2:-1], True
        if kind == "string":
            parts = []
            for child in node.children:
                if child.type == "string_content":
                    parts.append(_unescape_double(_text(child)))
                elif child.is_named:
                    parts.append(self._word(child)[0].replace(_SPLIT, " "))
            return "".join(parts), True
        if kind == "translated_string":
            return self._word(node.children[-1])[0], True
        if kind == "concatenation":
            return "".join(self._word(c)[0] for c in node.children), False
        if kind in ("simple_expansion", "expansion"):
            return self._expansion(node), False
        if kind == "command_substitution":
            return self._substitution(node), False
        return _text(node), False

    def _expansion(self, node: Node) -> str:
        names = [c for c in node.children if c.type in ("variable_name", "special_variable_name")]
        plain = len(names) == 1 and all(
            c.type in ("$", "${", "}", "variable_name", "special_variable_name")
            for c in node.children
        )
        if plain:
            name = _text(names[0])
            if name == "IFS":
                return _SPLIT
            if name in self.env:
                value = self.env[name]
                ifs = self.env.get("IFS")
                for separator in ifs or "":  # `IFS=,; x=rm,-rf,/; $x`: split where IFS says
                    value = value.replace(separator, _SPLIT)
                return value
        return _text(node)

    def _substitution(self, node: Node) -> str:
        inner = [c for c in node.children if c.is_named]
        if len(inner) == 1 and inner[0].type == "command":
            saved = self.commands
            self.commands = []
            command = self._command(inner[0])
            self.commands = saved
            output = literal_output(command) if command is not None else None
            if output is not None:
                return _SPLIT + output.strip() + _SPLIT
        return _text(node)
