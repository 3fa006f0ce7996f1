"""The commands that write, as library functions of a store returning plain values.

The CLI runs them on its own store when no process owns it, and the owner (`server.py`) runs
the same function on its connection when one does: the result, not the store, crosses the
socket, so the output is the same either way. A user's mistake is a `CommandRefused` line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentaudit.errors import UserError
from agentaudit.store import Store


class CommandRefused(UserError):
    """The command cannot do what was asked (unknown id, bad matcher, bad configuration)."""


def _alerting(config: str | None) -> Any:
    from agentaudit.alert.config import from_urls, load_config

    try:
        loaded = load_config(Path(config) if config else None)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandRefused(str(exc)) from None
    return loaded or from_urls([])


def alert_ack(store: Store, *, alert_id: str, by: str, config: str | None = None) -> dict:
    """Acknowledge an alert and send what that queued (PagerDuty `acknowledge`)."""
    from agentaudit.alert.delivery.outbox import deliver_due
    from agentaudit.alert.engine import acknowledge

    cfg = _alerting(config)
    try:
        alert = acknowledge(store, cfg, alert_id, by=by)
    except KeyError as exc:
        raise CommandRefused(str(exc.args[0])) from None
    attempts = deliver_due(store, cfg)
    return {
        "alert_id": alert["alert_id"],
        "acknowledged_by": alert["acknowledged_by"],
        "deliveries": attempts,
    }


def silence_add(store: Store, *, matchers: list[str], duration: str, comment: str, by: str) -> dict:
    from agentaudit.alert.config import parse_duration
    from agentaudit.alert.silences import add_silence

    try:
        silence = add_silence(
            store, matchers, parse_duration(duration), comment=comment, created_by=by
        )
    except ValueError as exc:
        raise CommandRefused(str(exc)) from None
    return silence.as_dict(silence.created_at)


def silence_expire(store: Store, *, silence_id: str) -> dict:
    from agentaudit.alert.silences import expire_silence

    try:
        silence = expire_silence(store, silence_id)
    except KeyError as exc:
        raise CommandRefused(str(exc.args[0])) from None
    return {"id": silence.silence_id, "ends_at": silence.ends_at.isoformat()}


def ingest(store: Store, *, paths: list[str], source: str | None, jobs: int) -> dict:
    """Read files into the store: `IngestReport.as_dict()` (`ingest_report` rebuilds it)."""
    from agentaudit.ingest import expand_paths, ingest_paths

    report = ingest_paths(store, expand_paths([Path(p) for p in paths]), source=source, jobs=jobs)
    return report.as_dict()


def ingest_report(value: dict) -> Any:
    """The `IngestReport` an `ingest` result describes."""
    from agentaudit.ingest.files import FileReport, IngestReport

    files = [FileReport(**f) for f in value["files"]]
    return IngestReport(files=files, interrupted=value.get("interrupted"))


def detect(store: Store, *, notify: list[str], fail_on: str | None = None) -> dict:
    """Detect, alert, deliver (`pipeline.detect_alert_deliver`): what `agentaudit detect`
    prints, as values (`json` is its `--json` output)."""
    from agentaudit.alert.config import ConfigError
    from agentaudit.detect.gate import at_or_above
    from agentaudit.pipeline import detect_alert_deliver

    try:
        run = detect_alert_deliver(store, notify)
    except ConfigError as exc:
        raise CommandRefused(str(exc)) from None
    report, alerts, deliveries = run.detect, run.evaluation.changed, run.deliveries
    findings: list[dict[str, Any]] = [dict(f) for f in report.findings]
    gated = at_or_above(findings, fail_on) if fail_on else []
    output = {
        **report.as_dict(),
        "alerts_changed": len(alerts),
        "deliveries": deliveries,
        "not_notified": [n.as_dict() for n in run.evaluation.unsent],
        **({"fail_on": fail_on.lower(), "failing_findings": len(gated)} if fail_on else {}),
    }
    return {
        "json": output,
        "findings": [
            {
                "severity": f["severity"],
                "rule_id": f["rule_id"],
                "title": f["title"],
                "first_seen": f["first_seen"].isoformat() if f.get("first_seen") else None,
                "event_ids": list(f["event_ids"]),
            }
            for f in findings
        ],
        "failures": [(f.kind, str(f)) for f in report.failures],
        "findings_new": report.findings_new,
        "updated": len(report.updated),
        "alerts_changed": len(alerts),
        "delivered": sum(d["ok"] for d in deliveries),
        "deliveries": len(deliveries),
        "unsent": run.evaluation.unsent_summary(),
        "gated": len(gated),
    }


COMMANDS: dict[str, Callable[..., dict]] = {
    "alert.ack": alert_ack,
    "silence.add": silence_add,
    "silence.expire": silence_expire,
    "ingest": ingest,
    "detect": detect,
}
