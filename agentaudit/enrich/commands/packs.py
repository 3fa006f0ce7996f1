"""Rule packs kept as data: `packs/*.yaml`, one pack per tool family.

A rule matches a canonical command by program, the leading subcommand words, and flags:

    - id: docker.volume-rm          # stable id (alert dedup and suppression key on it)
      programs: [docker, podman]
      words: [volume, [rm, remove, prune]]   # leading positional words; a list = any of
      any_flags: [--force]          # at least one present (optional)
      none_flags: [--dry-run]       # none present (optional)
      category: container_delete
      severity: high
      why: removes volumes and the data in them

`operands:` is a regex every word after `words` must match (pod names a controller recreates).
`verbs:` instead of `words:` matches a destructive verb among the first three subcommand
words split at `-`, `:` and `.` (`delete-db-instance`, `apps:destroy`), for CLIs that follow
the noun/verb convention. `escalate:` maps a flag to a raised severity and extra category.
Safe rules (`allow: true`) are checked first and silence the command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agentaudit.enrich.commands.argv import invocation
from agentaudit.enrich.commands.model import CATEGORIES, SEVERITIES, Finding, max_severity
from agentaudit.enrich.commands.parse import SimpleCommand

PACK_DIR = Path(__file__).with_name("packs")
_SPLIT = re.compile(r"[-:_]")
_SUBCOMMAND = re.compile(r"^[a-z][a-z0-9_:-]*$")
# long verbs also match inside a word (deletefile, rdelete, doDelete)
_EMBEDDED = re.compile(r"(delete|destroy|remove|purge|terminate|truncate|wipe|erase)")


@dataclass(frozen=True)
class PackRule:
    id: str
    programs: tuple[str, ...]
    category: str
    severity: str
    why: str
    words: tuple[tuple[str, ...], ...] = ()
    verbs: frozenset[str] = frozenset()
    any_flags: tuple[str, ...] = ()
    none_flags: tuple[str, ...] = ()
    allow: bool = False
    operands: re.Pattern[str] | None = None  # every word after `words` must match
    escalate: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def matches(
        self, program: str, positional: list[str], flags: set[str], args: list[str]
    ) -> bool:
        if "*" not in self.programs and program not in self.programs:
            return False
        if self.words:
            if len(positional) < len(self.words):
                return False
            for want, got in zip(self.words, positional, strict=False):
                if "*" not in want and got.lower() not in want:
                    return False
        if self.verbs:
            words = [w.lower() for w in positional if "://" not in w][:4]
            stop = next(
                (i for i, w in enumerate(words) if not _SUBCOMMAND.match(w) or "::" in w), 4
            )
            words = words[:stop]
            pieces = {p for w in words for p in _SPLIT.split(w)} | set(words)
            if not pieces & self.verbs and not any(_EMBEDDED.search(p) for p in [*pieces, program]):
                return False
        if self.operands is not None:
            rest = positional[len(self.words) :]
            if not rest or not all(self.operands.fullmatch(w) for w in rest):
                return False
        if self.any_flags and not any(_has_flag(f, flags, args) for f in self.any_flags):
            return False
        return not any(_has_flag(f, flags, args) for f in self.none_flags)


def _has_flag(flag: str, flags: set[str], args: list[str]) -> bool:
    """Flags come from `argv.invocation`: bundles split, `-destroy` read as `--destroy` where
    the program reads single-dash long options."""
    return flag in flags or (flag[:1] == "-" and flag[1:2] != "-" and "-" + flag in flags)


def _as_words(spec: list[Any]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(w) if isinstance(w, list) else (str(w),) for w in spec)


def load_pack(path: Path) -> list[PackRule]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = []
    for raw in data.get("rules", []):
        if raw.get("category") not in CATEGORIES and not raw.get("allow"):
            raise ValueError(
                f"{path.name}: rule {raw.get('id')}: unknown category {raw.get('category')}"
            )
        if raw.get("severity", "info") not in SEVERITIES:
            raise ValueError(f"{path.name}: rule {raw.get('id')}: bad severity")
        rules.append(
            PackRule(
                id=raw["id"],
                programs=tuple(raw["programs"]),
                category=raw.get("category", ""),
                severity=raw.get("severity", "info"),
                why=raw.get("why", ""),
                words=_as_words(raw.get("words", [])),
                verbs=frozenset(raw.get("verbs", [])),
                any_flags=tuple(raw.get("any_flags", [])),
                none_flags=tuple(raw.get("none_flags", [])),
                allow=bool(raw.get("allow")),
                operands=re.compile(raw["operands"]) if raw.get("operands") else None,
                escalate={
                    k: (v["severity"], v.get("category"))
                    for k, v in (raw.get("escalate") or {}).items()
                },
            )
        )
    return rules


@lru_cache(maxsize=1)
def all_rules() -> tuple[tuple[PackRule, ...], tuple[PackRule, ...]]:
    """(allow rules, destructive rules) from every pack file."""
    rules = [r for path in sorted(PACK_DIR.glob("*.yaml")) for r in load_pack(path)]
    return tuple(r for r in rules if r.allow), tuple(r for r in rules if not r.allow)


def match(cmd: SimpleCommand, generic: bool = True) -> list[Finding]:
    args = cmd.argv[1:]
    inv = invocation(cmd.program, args)
    positional = list(inv.words)
    flags = set(inv.options)
    allow, deny = all_rules()
    if any(r.matches(cmd.program, positional, flags, args) for r in allow):
        return []
    findings: list[Finding] = []
    # specific rules first; the generic verb/flag rules only speak when none did
    for is_generic in (False, True) if generic else (False,):
        for rule in deny:
            if ("*" in rule.programs) != is_generic or not rule.matches(
                cmd.program, positional, flags, args
            ):
                continue
            findings += _findings(rule, cmd.program, positional, flags, args)
            if is_generic:
                break  # one generic finding is enough
        if findings:
            break
    return findings


def _findings(
    rule: PackRule, program: str, positional: list[str], flags: set[str], args: list[str]
) -> list[Finding]:
    severity, extra, why = rule.severity, None, rule.why
    for flag, (raised, category) in rule.escalate.items():
        if _has_flag(flag, flags, args):
            severity, extra = max_severity(severity, raised), category or extra
            why = f"{rule.why} ({flag})"
    operation = " ".join([program, *positional[: max(len(rule.words), 2)]])
    target = (
        positional[len(rule.words)] if rule.words and len(positional) > len(rule.words) else None
    )
    found = [Finding(rule.id, rule.category, severity, why, operation=operation, target=target)]
    if extra:
        found.append(Finding(rule.id, extra, severity, why, operation=operation, target=target))
    return found
