"""The canonical event: one row per thing an agent, a shell or a provider did.

This module is the single definition of the `events` columns. Collectors build plain dicts
with these keys (`new_event`), enrichment fills the analysis columns, and the store appends
them as Arrow batches. Keep column names stable: exports and analysts' SQL depend on them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

import pyarrow as pa

# The values of kind, status, severity, target_env, scope, origin and categories, and what
# each means: agentaudit.taxonomy.

TIME = pa.timestamp("us", tz="UTC")
STR = pa.string()
STRS = pa.list_(pa.string())

# (name, type, meaning) — the meaning is rendered into docs/ARCHITECTURE.md and the views.
EVENT_COLUMNS: list[tuple[str, pa.DataType, str]] = [
    # identity
    ("event_id", STR, "deterministic hash of source + the record's id or raw bytes (dedup key)"),
    ("source", STR, "collector source name, e.g. cursor.hooks, shell.zsh, railway.audit"),
    ("source_path", STR, "file the record came from (or stream name)"),
    ("source_offset", pa.int64(), "byte offset of the record in source_path"),
    ("parser_version", STR, "collector name and version that produced the row"),
    ("ingested_at", TIME, "when agentaudit stored the row"),
    # time
    ("time", TIME, "when it happened, UTC"),
    ("time_precision", STR, "us, ms, s, or none when the source has no time (order kept)"),
    ("seq", pa.int64(), "order of the record within its source (tie-breaker for equal times)"),
    # who
    ("host", STR, "machine the record was made on, when known"),
    ("os_user", STR, "local account"),
    ("agent", STR, "claude-code, codex, cursor, gemini, openhands, aider, human, unknown"),
    ("agent_version", STR, "the agent's own version"),
    ("model", STR, "model name, when the source says"),
    ("session_id", STR, "agent or shell session id"),
    ("parent_session_id", STR, "parent session for subagents"),
    ("tool_call_id", STR, "id joining a call to its result across sources"),
    ("actor", STR, "principal: ARN, email, user name"),
    ("credential_fp", STR, "keyed fingerprint of the credential the call used (never the secret)"),
    ("secret_fps", STRS, "fingerprints of every secret seen in the record (read, printed or used)"),
    # what
    ("kind", STR, "process, api, file, message, auth, other"),
    ("tool_name", STR, "agent tool (Shell, Bash, Read...) or provider service"),
    ("operation", STR, "program and subcommand, or API operation (volumeDelete, DeleteDBInstance)"),
    ("command", STR, "command line, redacted"),
    ("cwd", STR, "working directory"),
    ("paths", STRS, "files the call read or wrote"),
    ("url", STR, "URL fetched or called, redacted"),
    ("text", STR, "message text (user prompt, agent reply), redacted"),
    # target
    ("target", STR, "resource acted on: path, ARN, volume id, namespace/name"),
    ("target_env", STR, "production, staging, development, unknown"),
    ("env_evidence", STR, "why target_env was inferred"),
    # outcome
    ("status", STR, "success, failure, denied, unknown"),
    ("exit_code", pa.int32(), "process exit code when the source has one"),
    ("error", STR, "error text, redacted"),
    # analysis (filled by enrichment)
    ("destructive", pa.bool_(), "destroys data, backups or audit trails"),
    ("categories", STRS, "fs_delete, cloud_delete, backup_destroy, credential_access, ..."),
    ("severity", STR, "info, low, medium, high, critical"),
    ("scope", STR, "project, temp, home, system, remote"),
    # everything else
    ("raw", STR, "the whole source record as JSON, redacted"),
    # provider request context (issue 4)
    (
        "credential_id",
        STR,
        "credential id the provider logged: AWS access key id, GitHub token id (not a secret)",
    ),
    ("source_ip", STR, "caller IP address the provider logged"),
    ("user_agent", STR, "caller user agent the provider logged"),
    (
        "on_behalf_of",
        STR,
        "service that made this call downstream of another's (invokedBy, service-linked role, k8s controller); null for the actor's own calls",
    ),
    (
        "operation_id",
        STR,
        "id shared by the entries of one provider operation (GCP operation.id, Azure correlationId, k8s auditID)",
    ),
    (
        "repeat",
        pa.bool_(),
        "another entry of an operation already counted (GCP last, Azure later status, k8s other stage): count rows WHERE NOT coalesce(repeat, false)",
    ),
    # enriched once, before storage, for detection and linking to read (issue 14)
    (
        "origin",
        STR,
        "agent, shell, provider or agentaudit: what kind of source wrote the row (from its collector)",
    ),
    (
        "provider",
        STR,
        "provider whose resource the call acts on: the audit log's vendor, or the one a command's URL or CLI names",
    ),
    (
        "argvs",
        pa.list_(STRS),
        "argv of each simple command of `command` that runs, wrappers stripped, as command analysis parsed it",
    ),
    (
        "env_hints",
        STRS,
        "kind=value the collector found for the target's environment: ids looked up in environments.yaml (aws_account=...), name=..., environment=...",
    ),
    (
        "env_clues",
        STRS,
        "kind=value the call says about the environment its session works in: branch=..., railway=..., aws_profile=...",
    ),
    ("instructions", STRS, "what a user's prompt forbids: freeze, no_delete, no_prod"),
    (
        "decided_by",
        STR,
        "who let an agent's call run or stopped it: setting, human, classifier, hook, bypass, unknown",
    ),
]


class EventRow(TypedDict):
    """One `events` row as Python values: what `new_event` builds and enrichment fills.

    Kept equal to EVENT_COLUMNS by agentaudit/test_schema.py (names, order and types).
    """

    event_id: str
    source: str
    source_path: str | None
    source_offset: int | None
    parser_version: str | None
    ingested_at: datetime | None
    time: datetime | None
    time_precision: str | None
    seq: int | None
    host: str | None
    os_user: str | None
    agent: str | None
    agent_version: str | None
    model: str | None
    session_id: str | None
    parent_session_id: str | None
    tool_call_id: str | None
    actor: str | None
    credential_fp: str | None
    secret_fps: list[str] | None
    kind: str | None
    tool_name: str | None
    operation: str | None
    command: str | None
    cwd: str | None
    paths: list[str] | None
    url: str | None
    text: str | None
    target: str | None
    target_env: str | None
    env_evidence: str | None
    status: str | None
    exit_code: int | None
    error: str | None
    destructive: bool | None
    categories: list[str] | None
    severity: str | None
    scope: str | None
    raw: str | None
    credential_id: str | None
    source_ip: str | None
    user_agent: str | None
    on_behalf_of: str | None
    operation_id: str | None
    repeat: bool | None
    origin: str | None  # agent, shell, provider, agentaudit (the collector's)
    provider: str | None
    argvs: list[list[str]] | None
    env_hints: list[str] | None
    env_clues: list[str] | None
    instructions: list[str] | None
    decided_by: str | None  # who let the call run or stopped it (setting, human, ...)


class FindingRow(TypedDict):
    """One `findings` row as Python values: what a detector makes (agentaudit/detect/base.py).

    Kept equal to the store's `findings` table by agentaudit/test_schema.py.
    """

    finding_id: str  # hash(rule, session, the detector's key): stable across runs
    rule_id: str
    title: str
    severity: str
    kind: str  # rule, correlation, behaviour, model
    first_seen: datetime | None  # None: every event of it is untimed
    last_seen: datetime | None
    event_ids: list[str]
    session_id: str | None
    group_key: str
    status: str
    evidence: str  # JSON
    created_at: datetime


EVENT_SCHEMA = pa.schema([pa.field(name, typ) for name, typ, _ in EVENT_COLUMNS])
EVENT_FIELDS = tuple(EVENT_SCHEMA.names)
_FIELD_SET = frozenset(EVENT_FIELDS)
_EMPTY_EVENT: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("quarantine_id", STR),
        ("source", STR),
        ("source_path", STR),
        ("line", pa.int64()),
        ("byte_offset", pa.int64()),
        ("reason", STR),
        ("raw", STR),
        ("parser_version", STR),
        ("ingested_at", TIME),
    ]
)


def _encoded(text: str) -> bytes:
    """UTF-8, undecodable bytes (surrogate escapes) back as they were; a lone UTF-16 surrogate
    (a cut emoji in JSON) as its 3 bytes, so it is an id, not a crash."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def stable_id(*parts: str | bytes | int | None) -> str:
    """A short deterministic id (sha256, 32 hex chars) over the given parts."""
    # one buffer, one update: the digest of each part followed by 0x1f, as ever (ids are stable)
    if len(parts) == 2 and type(parts[0]) is str and type(parts[1]) is str:  # the usual call
        data = _encoded(f"{parts[0]}\x1f{parts[1]}\x1f")
        return hashlib.sha256(data).hexdigest()[:32]
    encoded = [
        b"\x00none" if part is None else part if isinstance(part, bytes) else _encoded(str(part))
        for part in parts
    ]
    return hashlib.sha256(b"\x1f".join(encoded) + b"\x1f").hexdigest()[:32]


def new_event(source: str, record_key: str | bytes, **columns: Any) -> EventRow:
    """A canonical event dict; `record_key` is the record's own id or its raw bytes."""
    return event_from(source, record_key, columns)


def event_from(source: str, record_key: str | bytes, columns: Mapping[str, Any]) -> EventRow:
    """`new_event` for columns already in a dict (saves the keyword copy on hot paths)."""
    if not _FIELD_SET.issuperset(columns):
        unknown = sorted(set(columns) - _FIELD_SET)
        raise KeyError(f"not canonical columns: {unknown}")
    event = _EMPTY_EVENT.copy()  # a copy of a dict is ~8x faster than `dict.fromkeys`
    event.update(columns)
    event["source"] = source
    event["event_id"] = stable_id(source, record_key)
    return cast(EventRow, event)


def raw_json(record: Any) -> str:
    """Serialize a source record for the `raw` column.

    Undecodable bytes (surrogate escapes) are kept as `\\udcXX` escapes: lossless and valid UTF-8.
    """
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True, separators=(",", ":"), default=str)
    return text


def parse_time(value: str | int | float | None) -> datetime | None:
    """ISO-8601 text or epoch seconds to an aware UTC datetime; None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if not isinstance(value, str):
            return None  # a wrong JSON type is no time
        text = value.strip().replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):  # unreadable or beyond year 1..9999
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def earliest(times: Iterable[datetime | None]) -> datetime | None:
    """Findings over untimed events (bash history without HISTTIMEFORMAT) have no time."""
    known = [t for t in times if t is not None]
    return min(known) if known else None


def time_key(value: datetime | None) -> tuple[bool, datetime]:
    """Sort key that puts untimed values last (a None and a datetime cannot be compared)."""
    return (value is None, value or datetime.min.replace(tzinfo=UTC))


def latest(times: Iterable[datetime | None]) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record a collector could not turn into an event: kept with its position and reason."""

    reason: str
    raw: bytes
    line: int | None = None
    byte_offset: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def text_column(value: str | None) -> str | None:
    """Column text must be valid UTF-8: surrogate-escaped bytes become U+FFFD here.

    The lossless original stays in `raw` (see `raw_json`), so nothing is dropped.
    """
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def to_arrow(events: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Canonical event dicts to one Arrow table with the canonical schema."""
    # column by column: three times faster than `from_pylist` (one dict lookup per cell)
    try:
        columns = {name: [event[name] for event in events] for name in EVENT_FIELDS}
    except KeyError:  # not built by `new_event`: absent columns are null
        columns = {name: [event.get(name) for event in events] for name in EVENT_FIELDS}
    return pa.Table.from_pydict(columns, schema=EVENT_SCHEMA)
