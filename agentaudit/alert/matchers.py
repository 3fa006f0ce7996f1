"""Alertmanager label matchers: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.

Regexes are fully anchored (Alertmanager uses RE2 full matches). A label may hold several
values (a finding's sources): `=`/`=~` match when any value matches, `!=`/`!~` when none does.
A missing label matches as the empty string, as in Alertmanager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LabelValue = str | tuple[str, ...]
Labels = dict[str, LabelValue]

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Matcher:
        found = _MATCHER.match(text)
        if not found:
            raise ValueError(f"not a matcher: {text!r} (use name=value, !=, =~ or !~)")
        name, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if "~" in op:
            re.compile(value)  # fail at parse time, not at send time
        return cls(name, op, value)

    def matches(self, labels: Labels) -> bool:
        raw = labels.get(self.name, "")
        values = raw if isinstance(raw, tuple) else (raw,)
        values = values or ("",)
        if self.op == "=":
            return any(v == self.value for v in values)
        if self.op == "!=":
            return all(v != self.value for v in values)
        hit = any(re.fullmatch(self.value, v) for v in values)
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "value": self.value}


def parse_matchers(items: list[str] | str | None) -> tuple[Matcher, ...]:
    if items is None:
        return ()
    if isinstance(items, str):
        items = [items]
    return tuple(Matcher.parse(str(item)) for item in items)


def all_match(matchers: tuple[Matcher, ...], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)
