"""YAML that remembers where each value came from, so a config error names file:line.

PyYAML's safe loader, with mappings and lists that carry the line of each key and item.
Broken YAML becomes one ConfigError line (`alerting.yml:7: YAML syntax error: ...`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration problem, worded for one line: `file:line (where): what; hint`."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None, where: str = ""):
        self.message, self.source, self.line, self.where = message, source, line, where
        place = source or "alerting config"
        if line is not None:
            place += f":{line}"
        if where:
            place += f" ({where})"
        super().__init__(f"{place}: {message}")


class LineDict(dict):
    """A mapping with the 1-based line of the mapping (`line`) and of each key (`lines`)."""

    line: int | None = None
    lines: dict[Any, int]


class LineList(list):
    line: int | None = None
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(f"key `{key}` appears twice", line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(item, deep=True) for item in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [item.start_mark.line + 1 for item in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(path: Path) -> Any:
    """The document at `path`, with line numbers; any YAML problem is one ConfigError."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read it: {exc}", source=source) from None
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(exc.message, source=source, line=exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"YAML syntax error: {problem}", source=source, line=line) from None
