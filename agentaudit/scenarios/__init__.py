"""Built-in incident replays, in their sources' real on-disk formats."""

from __future__ import annotations

from pathlib import Path

SCENARIOS_DIR = Path(__file__).parent


def scenario_path(name: str) -> Path:
    path = SCENARIOS_DIR / name
    if not path.is_dir():
        raise KeyError(f"no scenario {name!r}")
    return path


def scenario_files(name: str) -> list[Path]:
    """The scenario's source files (its README and spec are not sources)."""
    return sorted(p for p in scenario_path(name).iterdir() if p.suffix not in (".md", ".yaml"))
