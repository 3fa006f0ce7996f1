"""Collector registry: every module of `agents/`, `shell/` and `providers/` that defines a
`Collector` subclass, plus `agentaudit.collectors` entry points.

Adding a source is adding a file to one of those folders (or registering an entry point).
Each collector describes itself (origin, agent or vendor, default locations, whether its
records can be split): every other layer asks `collector_for_source` instead of reading
meaning into a source's name.
In a checkout this folder sits at the repository's top level; `agentaudit/collectors` is a
symlink to it, so the checkout and the wheel both import it as `agentaudit.collectors`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from agentaudit.collectors import agents, providers, shell
from agentaudit.collectors.base import Collector, SourceInput

__all__ = [
    "Collector",
    "SourceInput",
    "all_collectors",
    "collector_for_source",
    "companion_of",
    "get_collector",
    "sniff_collector",
]


@lru_cache(maxsize=1)
def all_collectors() -> dict[str, Collector]:
    """Every registered collector, by name."""
    found: dict[str, Collector] = {}
    for package in (agents, shell, providers):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith(("_", "test_")):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                concrete = issubclass(cls, Collector) and not inspect.isabstract(cls)
                if concrete and cls.__module__ == module.__name__:
                    found[cls.name] = cls()
    for ep in entry_points(group="agentaudit.collectors"):
        cls = ep.load()
        found[cls.name] = cls()
    return dict(sorted(found.items()))


@lru_cache(maxsize=1)
def _by_source() -> dict[str, Collector]:
    found: dict[str, Collector] = {}
    for collector in all_collectors().values():
        found.setdefault(collector.source, collector)  # two formats of one source agree
    return found


def collector_for_source(source: str | None) -> Collector | None:
    """The collector that writes this `source` column value (None for an unknown source)."""
    return _by_source().get(source or "")


def get_collector(name: str) -> Collector:
    collectors = all_collectors()
    if name not in collectors:
        known = ", ".join(collectors)
        raise KeyError(f"unknown source {name!r}; known sources: {known}")
    return collectors[name]


def sniff_collector(path: Path, head: bytes) -> Collector | None:
    """The first collector that recognises this file, or None."""
    for collector in all_collectors().values():
        if collector.sniff(path, head):
            return collector
    return None


def companion_of(path: Path) -> tuple[Collector, str] | None:
    """(collector, why) when a collector says this file is a companion of its format."""
    for collector in all_collectors().values():
        why = collector.companion(path)
        if why:
            return collector, why
    return None
