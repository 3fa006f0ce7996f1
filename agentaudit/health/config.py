"""Quiet periods and pull intervals the user sets: `<AGENTAUDIT_HOME>/sources.yaml`.

    quiet:                       # per source (or source@host): silent longer than this pages
      claude-code.hooks: 30m
      railway.audit: 6h
    sleep_gap: 30m               # a host none of whose sources reported this long was away
    pulls:                       # how often each puller runs, to compare with its retention
      railway: 24h

Durations are `<number><s|m|h|d>` or seconds. A source without a configured quiet period
learns one from its own history (see `agentaudit/health/sources.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from agentaudit.errors import UserError
from agentaudit.paths import home

FILE_NAME = "sources.yaml"
DEFAULT_SLEEP_GAP = timedelta(minutes=30)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class SourcesConfigError(UserError):
    pass


@dataclass(frozen=True)
class HealthConfig:
    quiet: dict[str, timedelta] = field(default_factory=dict)  # source or source@host
    sleep_gap: timedelta = DEFAULT_SLEEP_GAP
    pulls: dict[str, timedelta] = field(default_factory=dict)

    def quiet_for(self, source: str, host: str) -> timedelta | None:
        return self.quiet.get(f"{source}@{host}") or self.quiet.get(source)


def duration(value: Any, where: str) -> timedelta:
    match = _DURATION.match(str(value))
    if isinstance(value, bool) or not match:
        raise SourcesConfigError(f"{where}: {value!r} is not a duration (e.g. 90s, 30m, 6h, 2d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2)])


def config_path() -> Path:
    return home() / FILE_NAME


def load_health_config(path: Path | None = None) -> HealthConfig:
    """The user's settings; defaults when the file does not exist."""
    path = path or config_path()
    if not path.is_file():
        return HealthConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SourcesConfigError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SourcesConfigError(f"{path}: expected a mapping with quiet, sleep_gap, pulls")
    unknown = set(data) - {"quiet", "sleep_gap", "pulls"}
    if unknown:
        raise SourcesConfigError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
    sections = {}
    for name in ("quiet", "pulls"):
        section = data.get(name) or {}
        if not isinstance(section, dict):
            raise SourcesConfigError(f"{path}: {name} must map names to durations")
        sections[name] = {str(k): duration(v, f"{path}: {name}.{k}") for k, v in section.items()}
    sleep = data.get("sleep_gap")
    return HealthConfig(
        quiet=sections["quiet"],
        sleep_gap=duration(sleep, f"{path}: sleep_gap") if sleep is not None else DEFAULT_SLEEP_GAP,
        pulls=sections["pulls"],
    )
