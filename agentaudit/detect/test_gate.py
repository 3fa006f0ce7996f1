import pytest

from agentaudit.detect.gate import at_or_above
from agentaudit.taxonomy import SEVERITIES


def finding(severity):
    return {"severity": severity, "rule_id": f"r-{severity}"}


def test_at_or_above_orders_severities():
    findings = [finding(s) for s in ("info", "low", "medium", "high", "critical")]
    assert [f["severity"] for f in at_or_above(findings, "high")] == ["high", "critical"]
    assert [f["severity"] for f in at_or_above(findings, "INFO")] == list(SEVERITIES)
    assert at_or_above([finding("low")], "critical") == []


def test_an_unknown_threshold_is_refused():
    with pytest.raises(ValueError, match="not a severity"):
        at_or_above([finding("high")], "severe")
