"""Alertmanager label matchers: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.

Parsed as Alertmanager parses them (pkg/labels/parse.go): the value may be double-quoted, with
OpenMetrics escapes (`\\"`, `\\n`, `\\\\`) inside; one string may hold several matchers in
PromQL form, `{severity="critical", team!="sec"}` (braces optional, commas outside quotes).
Regexes are anchored at both ends. A missing label matches as the empty string.

One extension: a label may hold several values (a finding's sources); `=` and `=~` match
when any value matches, `!=` and `!~` when none does. With one value this is Alertmanager's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LabelValue = str | tuple[str, ...]
Labels = dict[str, LabelValue]

# Alertmanager 0.25's matcher grammar; `=~` before `=` so the `~` is not read as the value
_MATCHER = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s:.*?))\s*$")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if "~" in self.op and self._regex is None:
            try:
                compiled = re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"bad regex in matcher {self}: {exc}") from None
            object.__setattr__(self, "_regex", compiled)

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """One matcher, e.g. `severity="critical"` or `rule_id=~destr.*`."""
        found = _MATCHER.match(text)
        if not found:
            raise ValueError(
                f"not a matcher: {text!r} (write name=value, name!=value, name=~regex "
                'or name!~regex; quote values with commas: team="a,b")'
            )
        name, op, raw = found.groups()
        return cls(name, op, _unquote(raw, text))

    def matches(self, labels: Labels) -> bool:
        raw = labels.get(self.name, "")
        values = (raw if isinstance(raw, tuple) else (raw,)) or ("",)
        if self.op == "=":
            return self.value in values
        if self.op == "!=":
            return self.value not in values
        assert self._regex is not None
        hit = any(self._regex.fullmatch(v) for v in values)
        return hit if self.op == "=~" else not hit

    def matches_empty(self) -> bool:
        """Does a missing label satisfy it (a silence made only of these matches everything)."""
        return self.matches({})

    def __str__(self) -> str:
        """Alertmanager's form, `name="value"` (what group keys and amtool show)."""
        return f'{self.name}{self.op}"{_escape(self.value)}"'

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "value": self.value}


def split_matchers(text: str) -> list[str]:
    """`{a="x", b!="y,z"}` -> ['a="x"', 'b!="y,z"'] (Alertmanager's ParseMatchers split)."""
    text = text.strip()
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    quoted = escaped = False
    for char in text:
        if char == "," and not quoted:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if escaped:
                escaped = False
            else:
                quoted = not quoted
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(char)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return tokens


def parse_matchers(items: list[str] | str | None) -> tuple[Matcher, ...]:
    """A `matchers:` list; each item may hold several matchers (`{a="b", c=~"d"}`)."""
    if items is None:
        return ()
    if isinstance(items, str):
        items = [items]
    return tuple(Matcher.parse(t) for item in items for t in split_matchers(str(item)))


def all_match(matchers: tuple[Matcher, ...], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


def sort_key(matcher: Matcher) -> tuple[str, str, int]:
    """Alertmanager sorts a route's matchers by name, value, then type for its route key."""
    return (matcher.name, matcher.value, ("=", "!=", "=~", "!~").index(matcher.op))


def _unquote(raw: str, text: str) -> str:
    """Alertmanager's value unescaping: `\\"`, `\\n`, `\\\\`; a stray backslash is literal."""
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i < len(body) - 1:
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == '"':
            if not quoted or i < len(body) - 1:
                raise ValueError(f"matcher value contains unescaped double quote: {text!r}")
            quoted = False
            i += 1
            continue
        out.append(char)
        i += 1
    if quoted:
        raise ValueError(f"matcher value contains unescaped double quote: {text!r}")
    return "".join(out)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
