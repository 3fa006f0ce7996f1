"""Naming environments: production, staging, development, unknown, from names and text.

Enrichment calls this once per event: the target's environment from the hints a collector
passed (`env_hints`: ids looked up in the user's environments.yaml, names), and what a call
says about the environment its session works in (`env_clues`: git branch, Railway
environment, AWS profile). Collectors never read the environments file themselves.
"""

from __future__ import annotations

import os
import re
import time
from functools import lru_cache
from pathlib import Path

import platformdirs

_WORDS = (
    ("production", r"prod|production|prd|live"),
    ("staging", r"staging|stage|stg|preview|uat"),
    ("development", r"dev|development|local|sandbox"),
)
_NAME_RES = [
    (env, re.compile(rf"(?i)(?:^|[^a-z0-9])(?:{words})(?:$|[^a-z0-9])")) for env, words in _WORDS
]
# Any environment word at all: one search rules out most names (ARNs, ids) before the three.
_ANY_WORD = re.compile("(?i)" + "|".join(words for _env, words in _WORDS))


def normalize_env_name(name: str | None) -> str | None:
    """An environment's own name ("prod-eu", "Staging") to its canonical class."""
    if not name:
        return None
    for env, pattern in _NAME_RES:
        if pattern.search(name):
            return env
    return "unknown"


def infer_env_from_text(text: str | None) -> tuple[str, str] | None:
    """(environment, evidence) when a resource name or command names one environment only."""
    if not text or not _ANY_WORD.search(text):
        return None
    hits = {
        env: m.group(0).strip("-_./ ") for env, pattern in _NAME_RES if (m := pattern.search(text))
    }
    if len(hits) == 1:
        env, word = next(iter(hits.items()))
        return env, f"name contains {word!r}"
    return None


# --- target_env from provider ids and names, with an optional user mapping (issue 4) ---

MAPPING_ENV = "AGENTAUDIT_ENVIRONMENTS"
MAPPING_FILENAME = "environments.yaml"


def mapping_path() -> Path | None:
    """The user's mapping file: `$AGENTAUDIT_ENVIRONMENTS`, else `environments.yaml` at home."""
    override = os.environ.get(MAPPING_ENV)
    if override:
        return Path(override).expanduser()
    home = os.environ.get("AGENTAUDIT_HOME") or platformdirs.user_data_dir("agentaudit")
    return Path(home) / MAPPING_FILENAME


_RECHECK_SECONDS = 2.0
_resolved: dict[tuple[str | None, str | None], tuple[float, dict[str, tuple[str, str]]]] = {}


def forget_mapping_cache() -> None:
    """Read the mapping file afresh on the next lookup (after the user edited it)."""
    _resolved.clear()


def _current_mapping() -> dict[str, tuple[str, str]]:
    """The mapping for the current environment variables, re-read at most every 2 s.

    Called for every provider record: resolving the path and stat-ing the file each time
    cost more than parsing the record.
    """
    key = (os.environ.get(MAPPING_ENV), os.environ.get("AGENTAUDIT_HOME"))
    now = time.monotonic()
    cached = _resolved.get(key)
    if cached and now - cached[0] < _RECHECK_SECONDS:
        return cached[1]
    mapping = load_mapping()
    _resolved[key] = (now, mapping)
    return mapping


def load_mapping(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """id -> (environment, where it was declared), from a YAML file like

        production: ["123456789012", my-prod-project, 6f1c0e2a-railway-environment-id]
        staging: ["210987654321"]

    Missing file: empty mapping. Ids are compared as text, exactly.
    """
    path = path or mapping_path()
    if path is None or not path.is_file():
        return {}
    stat = path.stat()
    return _load_mapping(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_mapping(path: str, _mtime: int, _size: int) -> dict[str, tuple[str, str]]:
    import yaml

    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    mapping: dict[str, tuple[str, str]] = {}
    if not isinstance(document, dict):
        return mapping
    for env, ids in document.items():
        canonical = normalize_env_name(str(env))
        if canonical in (None, "unknown") or not isinstance(ids, list):
            continue
        for value in ids:
            mapping[str(value)] = (canonical, path)
    return mapping


def _named_env(values: list[str | None]) -> tuple[str, str] | None:
    """The first of these names (resources, tags, accounts) that names one environment."""
    for value in values:
        guess = infer_env_from_text(value)
        if guess:
            return guess[0], f"{guess[1]} ({value})"
    return None


def mapped_env(ids: list[tuple[str, str | None]]) -> tuple[str, str] | None:
    """(environment, evidence) when one of the ids is listed in the user's mapping file."""
    mapping = _current_mapping()
    if not mapping:
        return None
    for kind, value in ids:
        if value is not None and str(value) in mapping:
            env, source = mapping[str(value)]
            return env, f"{kind} {value} is listed as {env} in {source}"
    return None


def target_env_from_hints(hints: list[str] | None, vendor: str | None) -> tuple[str, str] | None:
    """(environment, evidence) from a collector's `env_hints` (`kind=value`, in its order).

    The user's mapping of the ids wins; then a declared environment name (`environment=`,
    normalised even when it names none); then the names, then the ids' own words.
    """
    ids: list[tuple[str, str | None]] = []
    names: list[str] = []
    declared: list[str] = []
    for hint in hints or ():
        kind, _, value = hint.partition("=")
        if kind == "name":
            names.append(value)
        elif kind == "environment":
            declared.append(value)
        else:
            ids.append((kind, value))
    mapped = mapped_env(ids)
    if mapped:
        return mapped
    if declared:
        return normalize_env_name(declared[0]) or "unknown", (
            f"{vendor or 'provider'} environment name {declared[0]!r}"
        )
    return _named_env([*names, *(v for _, v in ids)])


# What a call says about the environment its session works in (a command and its output).
_BRANCH = re.compile(r"On branch (\S+)|git (?:checkout|switch)(?: -[bc])? ([\w./-]+)")
_RAILWAY_ENV = re.compile(
    r"RAILWAY_ENVIRONMENT=([\w-]+)|Environment: ([\w-]+)|railway environment ([\w-]+)"
)
_AWS_PROFILE = re.compile(r"--profile[= ]([\w-]+)|AWS_PROFILE=([\w-]+)")
# One search says whether a command or record can hold any clue at all: most hold none, and
# the patterns below then never run over a large record.
ENV_CLUE_MARKERS = (
    r"On branch |git checkout|git switch|RAILWAY_ENVIRONMENT=|Environment: "
    r"|railway environment |--profile|AWS_PROFILE="
)
_ANY_CLUE = re.compile(ENV_CLUE_MARKERS)


def env_clues(command: str | None, raw: str | None) -> list[str]:
    """`branch=`, `railway=`, `aws_profile=` (in that order): the first of each that the
    command, else the record (a `git status` or `railway status` output), names."""
    in_command = bool(command and _ANY_CLUE.search(command))
    if not in_command and not (raw and _ANY_CLUE.search(raw)):
        return []
    text = f"{command} {raw}" if command and raw else command or raw or ""
    clues = (
        ("branch", _first(_BRANCH.search(text))),
        ("railway", _first(_RAILWAY_ENV.search(text))),
        ("aws_profile", _first(_AWS_PROFILE.search(command)) if in_command else None),
    )
    return [f"{kind}={value}" for kind, value in clues if value]


def _first(match: re.Match[str] | None) -> str | None:
    return next((g for g in match.groups() if g), None) if match else None
