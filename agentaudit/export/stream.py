"""`agentaudit export`: OCSF, ECS, Splunk HEC or CEF, resumable with a stored cursor.

Records come in a fixed order: activity events by (ingested_at, event_id), then Detection
Finding lifecycle records by finding_log.seq, then the store's signed chain checkpoints by number
(OCSF Event Log Activity, `ocsf_checkpoint.py`). The cursor (table export_cursors) keeps the last
position written; it moves only after the output was fully written (a file is written to a
temporary name, synced and renamed) or, for HEC, after the collector accepted the batch. So a
shipper on a timer gets each record once: no duplicates, no gaps. Ingest stamps ingested_at
with the wall clock in a single writer, which keeps the event order append-only.

A file that already holds records is never replaced silently: `append` adds what is new after
the cursor, `force` replaces it, and without either the export refuses (`ExistingOutput`).
Lines are encoded with msgspec and scrubbed a chunk at a time (`scrub_lines`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

import msgspec

from agentaudit.enrich.secrets import scrub_lines
from agentaudit.errors import UserError
from agentaudit.export.cef import finding_to_cef
from agentaudit.export.ecs import ocsf_to_ecs
from agentaudit.export.hec import hec_envelope, post_batch
from agentaudit.export.ocsf_activity import COLUMNS, REGION_SQL, event_to_ocsf
from agentaudit.export.ocsf_checkpoint import checkpoint_to_ocsf
from agentaudit.schema import parse_time
from agentaudit.store import Store, now

_ENCODER = msgspec.json.Encoder(order="sorted")  # keys sorted, UTF-8 as is (json.dumps' output)


def _json(value: dict[str, Any]) -> str:
    return _ENCODER.encode(value).decode()


class ExistingOutput(UserError):
    """The output file already holds records and neither append nor force was asked for."""


# The one place an export format is registered: name -> (OCSF record, HEC index) -> line.
# Every format is rendered from the OCSF record (`ecs.py`, `hec.py`, `cef.py`).
RENDERERS: dict[str, Callable[[dict[str, Any], str | None], str | None]] = {
    "ocsf": lambda record, index: _json(record),
    "ecs": lambda record, index: _json(ocsf_to_ecs(record)),
    "hec": lambda record, index: _json(hec_envelope(record, index=index)),
    "cef": lambda record, index: finding_to_cef(record),
}
FORMATS = tuple(RENDERERS)
WHAT = ("all", "events", "findings")
_PAGE = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Cursor:
    name: str
    events_ingested_at: datetime = _EPOCH
    events_event_id: str = ""
    finding_seq: int = 0
    checkpoint_no: int = 0


@dataclass
class Position:
    ingested_at: datetime | None = None
    event_id: str | None = None
    finding_seq: int | None = None
    checkpoint_no: int | None = None


@dataclass
class ExportReport:
    written: int = 0
    skipped: int = 0  # records the format has no line for (CEF: activity)
    events: int = 0
    findings: int = 0
    checkpoints: int = 0
    cursor: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def parse_since(value: str | None, clock_now: datetime | None = None) -> datetime | None:
    """An ISO time, or a duration back from now (`2h`, `30m`, `7d`)."""
    if not value:
        return None
    found = re.fullmatch(r"(\d+)([smhdw])", value.strip())
    if found:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[found.group(2)]
        return (clock_now or now()) - timedelta(seconds=int(found.group(1)) * unit)
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"--since: not a time or duration: {value!r}")
    return parsed


def load_cursor(store: Store, name: str) -> Cursor:
    rows = store.rows("SELECT * FROM export_cursors WHERE name = ?", [name])
    if not rows:
        return Cursor(name)
    row = rows[0]
    return Cursor(
        name,
        row["events_ingested_at"],
        row["events_event_id"],
        row["finding_seq"],
        row["checkpoint_no"] or 0,
    )


def save_cursor(store: Store, cursor: Cursor) -> None:
    store.con.execute(
        "INSERT OR REPLACE INTO export_cursors (name, events_ingested_at, events_event_id, "
        "finding_seq, updated_at, checkpoint_no) VALUES (?, ?, ?, ?, ?, ?)",
        [
            cursor.name,
            cursor.events_ingested_at,
            cursor.events_event_id,
            cursor.finding_seq,
            now(),
            cursor.checkpoint_no,
        ],
    )


def advance(cursor: Cursor, position: Position) -> None:
    if position.checkpoint_no is not None:
        cursor.checkpoint_no = position.checkpoint_no
    elif position.finding_seq is not None:
        cursor.finding_seq = position.finding_seq
    elif position.ingested_at is not None:
        cursor.events_ingested_at = position.ingested_at
        cursor.events_event_id = position.event_id or ""


def iter_records(
    store: Store, cursor: Cursor, *, since: datetime | None = None, what: str = "all"
) -> Iterator[tuple[Position, dict[str, Any] | None]]:
    """(position, OCSF record) after the cursor; record None when filtered out by --since
    or not exportable (the position still counts, so the cursor passes it)."""
    if what in ("all", "events"):
        for event in _events_after(store, cursor):
            record = None
            if since is None or (event["time"] or event["ingested_at"]) >= since:
                record = event_to_ocsf(event)
            yield Position(event["ingested_at"], event["event_id"]), record
    if what in ("all", "findings"):
        for row in store.rows(
            "SELECT seq, time, ocsf FROM finding_log WHERE seq > ? ORDER BY seq",
            [cursor.finding_seq],
        ):
            keep = since is None or row["time"] >= since
            yield Position(finding_seq=row["seq"]), json.loads(row["ocsf"]) if keep else None
    if what == "all":
        yield from _checkpoint_records(store, cursor, since)


def _checkpoint_records(
    store: Store, cursor: Cursor, since: datetime | None
) -> Iterator[tuple[Position, dict[str, Any] | None]]:
    from agentaudit.store.chain.signing import statement

    for row in store.rows(
        "SELECT * FROM chain_checkpoints WHERE checkpoint_no > ? ORDER BY checkpoint_no",
        [cursor.checkpoint_no],
    ):
        keep = since is None or row["created_at"] >= since
        record = checkpoint_to_ocsf(statement(row), row["signature"], row["created_at"])
        yield Position(checkpoint_no=row["checkpoint_no"]), record if keep else None


def _events_after(store: Store, cursor: Cursor) -> Iterator[dict[str, Any]]:
    """Events after the cursor in export order, the columns a record reads, streamed in pages
    from a cursor of its own (the store's connection stays free to save export cursors)."""
    reader = store.con.cursor()
    try:
        result = reader.execute(
            f"""SELECT {", ".join(COLUMNS)}, {REGION_SQL} FROM events
                WHERE ingested_at > ? OR (ingested_at = ? AND event_id > ?)
                ORDER BY ingested_at, event_id""",
            [cursor.events_ingested_at, cursor.events_ingested_at, cursor.events_event_id],
        )
        names = [column[0] for column in result.description or []]
        while rows := result.fetchmany(_PAGE):
            yield from (dict(zip(names, row, strict=True)) for row in rows)
    finally:
        reader.close()


# An access key id or token id is an identifier the store keeps in clear (credential_id); the
# second gate would take an AWS key id for a key, so it is held out of the text while scrubbed.
_CREDENTIAL_SLOT = "agentaudit-credential-uid"
_CREDENTIAL_TEXT = _json({"": _CREDENTIAL_SLOT})[4:-1]


def _hold_credential(record: dict[str, Any]) -> str | None:
    user = (record.get("actor") or {}).get("user")
    if not user or "credential_uid" not in user:
        return None
    held = user["credential_uid"]
    user["credential_uid"] = _CREDENTIAL_SLOT
    return held


def _render_page(records: list[dict[str, Any]], fmt: str, index: str | None) -> list[str | None]:
    """Each record in `fmt`, scrubbed (the second gate behind redaction at ingest); None for
    a record the format has no line for."""
    held = [_hold_credential(record) for record in records]
    lines = [_render(record, fmt, index=index) for record in records]
    kept = [line for line in lines if line is not None]
    scrubbed = iter(scrub_lines(kept))
    out: list[str | None] = []
    for line, credential in zip(lines, held, strict=True):
        if line is None:
            out.append(None)
            continue
        line = next(scrubbed)
        if credential is not None:
            line = line.replace(_CREDENTIAL_TEXT, _json({"": credential})[4:-1])
        out.append(line)
    return out


def render(record: dict[str, Any], fmt: str, *, index: str | None = None) -> str | None:
    """One record in `fmt`, scrubbed (the second gate behind redaction at ingest)."""
    return _render_page([record], fmt, index)[0]


def _render(record: dict[str, Any], fmt: str, *, index: str | None = None) -> str | None:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; supported: {', '.join(FORMATS)}")
    return RENDERERS[fmt](record, index)


def export_to(
    store: Store,
    fmt: str,
    out: IO[str] | Path,
    *,
    since: datetime | None = None,
    cursor_name: str | None = None,
    what: str = "all",
    index: str | None = None,
    append: bool = False,
    force: bool = False,
) -> ExportReport:
    """Write every record after the cursor (or all, with cursor_name=None) to a stream or file.

    A new file is written atomically. A file that already holds records is extended with
    `append` (one write of the whole batch before the cursor moves; for file tailers such as a
    Splunk forwarder or Filebeat), replaced with `force`, and otherwise left alone
    (`ExistingOutput`): an export never truncates a previous one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; supported: {', '.join(FORMATS)}")
    if isinstance(out, Path) and not (append or force) and _holds_data(out):
        raise ExistingOutput(
            f"{out} already holds an export ({out.stat().st_size:,} bytes): --append adds the "
            "records after the cursor to it, --force replaces it"
        )
    cursor = load_cursor(store, cursor_name) if cursor_name else Cursor("-")
    report = ExportReport(cursor=cursor_name)
    if isinstance(out, Path):
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                _write(store, fmt, fh, cursor, since, what, index, report)
                fh.flush()
                os.fsync(fh.fileno())
            if append and report.written == 0:
                Path(tmp).unlink()  # nothing new: the file stays as it was
            elif append:
                with Path(tmp).open("rb") as batch, out.open("ab") as target:
                    shutil.copyfileobj(batch, target)
                    target.flush()
                    os.fsync(target.fileno())
                Path(tmp).unlink()
            else:
                os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    else:
        _write(store, fmt, out, cursor, since, what, index, report)
        out.flush()
    if cursor_name:
        save_cursor(store, cursor)
    return report


def _holds_data(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _write(
    store: Store,
    fmt: str,
    fh: IO[str],
    cursor: Cursor,
    since: datetime | None,
    what: str,
    index: str | None,
    report: ExportReport,
) -> None:
    for page in _pages(iter_records(store, cursor, since=since, what=what), _PAGE):
        records = [record for _, record in page if record is not None]
        lines = iter(_render_page(records, fmt, index))
        text = []
        for position, record in page:
            line = next(lines) if record is not None else None
            if line is None:
                report.skipped += 1
            else:
                text.append(line)
                report.written += 1
                if position.checkpoint_no is not None:
                    report.checkpoints += 1
                elif position.finding_seq is None:
                    report.events += 1
                else:
                    report.findings += 1
            advance(cursor, position)
        if text:
            fh.write("\n".join(text) + "\n")


def _pages(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page


def post_hec(
    store: Store,
    url: str,
    token: str,
    *,
    since: datetime | None = None,
    cursor_name: str | None = None,
    what: str = "all",
    index: str | None = None,
    batch_size: int = 500,
    timeout: float = 10.0,
) -> ExportReport:
    """POST HEC batches; the cursor moves after each accepted batch and stops at a failure."""
    cursor = load_cursor(store, cursor_name) if cursor_name else Cursor("-")
    report = ExportReport(cursor=cursor_name)
    pending: list[tuple[Position, dict[str, Any] | None]] = []

    def flush() -> bool:
        envelopes = [hec_envelope(r, index=index) for _, r in pending if r is not None]
        if envelopes:
            outcome = post_batch(url, token, envelopes, timeout=timeout)
            if not outcome.ok:
                report.errors.append(outcome.detail)
                return False
        for position, record in pending:
            if record is None:
                report.skipped += 1
            elif position.finding_seq is None:
                report.events += 1
            else:
                report.findings += 1
            advance(cursor, position)
        report.written += len(envelopes)
        if cursor_name:
            save_cursor(store, cursor)
        pending.clear()
        return True

    for position, record in iter_records(store, cursor, since=since, what=what):
        pending.append((position, record))
        if sum(r is not None for _, r in pending) >= batch_size and not flush():
            return report
    flush()
    return report
