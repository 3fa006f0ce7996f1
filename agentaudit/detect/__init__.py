"""Detection: link the stored events, run every detector, store new findings."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass
from typing import Any

from agentaudit.detect import rules
from agentaudit.detect.base import Detector
from agentaudit.link import link_events
from agentaudit.store import Store


def builtin_detectors() -> list[Detector]:
    """One instance of every detector class in `agentaudit.detect.rules`."""
    found: list[Detector] = []
    for info in pkgutil.iter_modules(rules.__path__):
        if info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{rules.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Detector) and cls.__module__ == module.__name__:
                found.append(cls())
    return sorted(found, key=lambda d: d.info.id)


@dataclass
class DetectReport:
    links_added: int
    findings_new: int
    findings: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "links_added": self.links_added,
            "findings_new": self.findings_new,
            "findings": [
                {k: f[k] for k in ("finding_id", "rule_id", "severity", "title", "session_id")}
                for f in self.findings
            ],
        }


def run_detection(store: Store, detectors: list[Detector] | None = None) -> DetectReport:
    links = link_events(store)
    findings: list[dict[str, Any]] = []
    if detectors is None:
        detectors = builtin_detectors()
        if os.environ.get("AGENTAUDIT_SIGMA") == "1":  # opt-in until alert routing is tuned
            from agentaudit.detect.sigma import SigmaRules

            detectors.append(SigmaRules())
    for detector in detectors:
        findings += detector.run(store)
    new = store.append_findings(findings) if findings else 0
    return DetectReport(links, new, findings)
