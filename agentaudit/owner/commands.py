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


COMMANDS: dict[str, Callable[..., dict]] = {
    "alert.ack": alert_ack,
    "silence.add": silence_add,
    "silence.expire": silence_expire,
    "ingest": ingest,
}
