from agentaudit.cli.core import SEVERITIES as CLI_SEVERITIES
from agentaudit.detect.gate import at_or_above
from agentaudit.schema import SEVERITIES


def finding(severity):
    return {"severity": severity, "rule_id": f"r-{severity}"}


def test_at_or_above_orders_severities():
    findings = [finding(s) for s in ("info", "low", "medium", "high", "critical")]
    assert [f["severity"] for f in at_or_above(findings, "high")] == ["high", "critical"]
    assert [f["severity"] for f in at_or_above(findings, "INFO")] == list(SEVERITIES)
    assert at_or_above([finding("low")], "critical") == []


def test_cli_lists_the_schema_severities():
    # the CLI keeps its own copy so `--help` does not import the schema (and pyarrow)
    assert CLI_SEVERITIES == SEVERITIES
