"""Load Sigma rule directories: each file validated against the Sigma JSON Schemas and parsed
by pySigma on its own, so a broken file is reported (file name and problem) and the others
still load; references between rules resolve across files."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from agentaudit.detect.sigma.logsources import logsource_of, supported_labels

BUILTIN_DIR = Path(__file__).resolve().parent / "rules"
_SCHEMA_DIR_CANDIDATES = (
    Path(__file__).resolve().parent / "schema",
    Path(__file__).resolve().parents[4] / "shared" / "sigma-schema",
)
_LEVELS = {
    "informational": "info",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}


@dataclass
class RuleError:
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class RuleSet:
    rules: list[SigmaRule | SigmaCorrelationRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # rule name/id -> file

    def named(self, key: str) -> SigmaRule | SigmaCorrelationRule | None:
        return next((r for r in self.rules if key in (r.name, str(r.id), r.title)), None)


@functools.cache  # the same schema objects each load: `_validate` keys its validators on them
def _schemas(schema_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The Sigma JSON Schemas (detection, correlation); None when not available here."""
    for directory in [schema_dir] if schema_dir else _SCHEMA_DIR_CANDIDATES:
        if directory and (directory / "sigma-detection-rule-schema.json").exists():
            return (
                json.loads((directory / "sigma-detection-rule-schema.json").read_text("utf-8")),
                json.loads((directory / "sigma-correlation-rules-schema.json").read_text("utf-8")),
            )
    return None


def _describe(logsource: Any) -> str:
    if not isinstance(logsource, dict):
        return "(none)"
    return "/".join(str(logsource[k]) for k in ("product", "service", "category") if k in logsource)


def rule_files(directories: list[Path]) -> list[Path]:
    files = []
    for directory in directories:
        files += [
            p for p in sorted(Path(directory).rglob("*.yml")) if not p.name.endswith(".tests.yml")
        ]
    return files


def load_rules(directories: list[Path] | None = None, schema_dir: Path | None = None) -> RuleSet:
    """Every rule in the directories (built-in pack when none given); bad files reported."""
    ruleset = RuleSet()
    schemas = _schemas(schema_dir)
    texts: list[tuple[Path, list[SigmaRule | SigmaCorrelationRule]]] = []
    for path in rule_files(directories or [BUILTIN_DIR]):
        try:
            text = path.read_text(encoding="utf-8")
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
            for doc in documents:
                if not isinstance(doc, dict):
                    raise ValueError("a rule document must be a mapping")
                if schemas:
                    schema = schemas[1] if "correlation" in doc else schemas[0]
                    # YAML reads `date: 2026-11-22` as a date; the schema wants the string
                    plain = {k: str(v) if k in ("date", "modified") else v for k, v in doc.items()}
                    _validate(plain, schema)
                if "correlation" not in doc and logsource_of(doc.get("logsource")) is None:
                    raise ValueError(
                        f"logsource {_describe(doc.get('logsource'))} is none agentaudit's "
                        f"events carry (supported: {', '.join(supported_labels())})"
                    )
            parsed = [
                SigmaCorrelationRule.from_dict(doc)
                if "correlation" in doc
                else SigmaRule.from_dict(doc)
                for doc in documents
            ]  # semantic errors of this file alone; references resolve across files below
            texts.append((path, parsed))
        except jsonschema.ValidationError as exc:
            ruleset.errors.append(
                RuleError(str(path), f"schema: {exc.message} at {list(exc.absolute_path)}")
            )
        except (SigmaError, yaml.YAMLError, ValueError, OSError) as exc:
            ruleset.errors.append(RuleError(str(path), f"{type(exc).__name__}: {exc}"))
    rules: list[SigmaRule | SigmaCorrelationRule] = []
    for path, parsed in texts:
        for rule in parsed:
            ruleset.files[rule.name or str(rule.id)] = path
        rules += parsed
    merged = SigmaCollection(rules)
    try:
        merged.resolve_rule_references()
    except SigmaError as exc:
        ruleset.errors.append(RuleError("(correlations)", str(exc)))
    ruleset.rules = list(merged.rules)
    return ruleset


_LOADED: dict[tuple, RuleSet] = {}


def load_rules_cached(directories: list[Path]) -> RuleSet:
    """`load_rules`, reused while no rule file changed (same names, sizes, mtimes): parsing
    and validating the pack takes about a second, more than the watch service's page budget."""
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in rule_files(directories))
    key = (tuple(str(d) for d in directories), stamp)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_rules(directories)
    return _LOADED[key]


def level_of(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return _LEVELS.get(str(rule.level.name).lower() if rule.level else "medium", "medium")


_VALIDATORS: dict[int, jsonschema.protocols.Validator] = {}  # by id of a `_schemas` object


def _validate(document: dict, schema: dict) -> None:
    """`jsonschema.validate` with the schema checked once per process, not once per rule (that
    check cost 0.3 s a rule); the same best-matching error is raised."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema, format_checker=jsonschema.FormatChecker())
        _VALIDATORS[id(schema)] = validator
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise error
