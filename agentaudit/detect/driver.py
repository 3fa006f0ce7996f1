"""Detection: link the stored events, run every detector, store new findings."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any

from agentaudit.detect import anomaly, behaviours, sql
from agentaudit.detect.anomaly.forest import ModelRefused
from agentaudit.detect.base import Detector
from agentaudit.detect.link import link_events
from agentaudit.detect.sigma.detector import SigmaRules
from agentaudit.schema import FindingRow
from agentaudit.store import Store

DETECTOR_PACKAGES = (sql, behaviours, anomaly)


SIGMA_OPT_OUT_ENV = "AGENTAUDIT_SIGMA"  # "0" leaves the Sigma pack out (e.g. to compare runs)


def builtin_detectors() -> list[Detector]:
    """One instance of every detector class in `agentaudit.detect.rules`, `.behaviours`,
    `.models`, plus the Sigma rule pack (`SigmaRules`) unless AGENTAUDIT_SIGMA=0."""
    found: list[Detector] = []
    if os.environ.get(SIGMA_OPT_OUT_ENV) != "0":
        found.append(SigmaRules())
    for package in DETECTOR_PACKAGES:
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith(("test_", "_")):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, Detector)
                    and cls.__module__ == module.__name__
                    and not inspect.isabstract(cls)
                ):
                    found.append(cls())
    return sorted(found, key=lambda d: d.info.id)


@dataclass
class DetectReport:
    links_added: int
    findings_new: int
    findings: list[FindingRow]
    refused: list[str] = field(default_factory=list)  # detectors that refused to run, and why

    def as_dict(self) -> dict[str, Any]:
        return {
            "links_added": self.links_added,
            "findings_new": self.findings_new,
            "findings": [
                {k: f[k] for k in ("finding_id", "rule_id", "severity", "title", "session_id")}
                for f in self.findings
            ],
            "refused": self.refused,
        }


def run_detection(store: Store, detectors: list[Detector] | None = None) -> DetectReport:
    links = link_events(store)
    findings: list[FindingRow] = []
    if detectors is None:
        detectors = builtin_detectors()
    refused: list[str] = []
    for detector in detectors:
        try:
            findings += detector.run(store)
        except ModelRefused as exc:  # a stale model is reported, never silently used
            refused.append(f"{detector.info.id}: {exc}")
    new = store.append_findings(findings) if findings else 0
    return DetectReport(links, new, findings, refused)
