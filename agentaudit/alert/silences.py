"""Silences: matchers muting alerts between starts_at and ends_at (Alertmanager's model).

Stricter than Alertmanager in one way: a matcher on a label no alert has is rejected (it
would match nothing, silently). As in Alertmanager, a silence whose matchers all match the
empty string (it would mute everything) is rejected.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.configcheck import check_label_names
from agentaudit.alert.matchers import Labels, Matcher, all_match, parse_matchers
from agentaudit.store import Store


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime

    def state(self, at: datetime) -> str:
        if at < self.starts_at:
            return "pending"
        return "active" if at < self.ends_at else "expired"

    def mutes(self, labels: Labels, at: datetime) -> bool:
        return self.state(at) == "active" and all_match(self.matchers, labels)

    def as_dict(self, at: datetime) -> dict[str, Any]:
        return {
            "id": self.silence_id,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "created_by": self.created_by,
            "comment": self.comment,
            "state": self.state(at),
        }


def add_silence(
    store: Store,
    matchers: list[str],
    duration: timedelta,
    *,
    comment: str,
    created_by: str = "",
    starts_at: datetime | None = None,
    clock: Clock | None = None,
) -> Silence:
    if not comment.strip():
        raise ValueError("a silence needs a comment (why it is muted)")
    parsed = parse_matchers(matchers)
    if not parsed:
        raise ValueError("a silence needs at least one matcher, e.g. rule_id=destructive-burst")
    check_label_names([m.name for m in parsed], "silence")
    if all(m.matches_empty() for m in parsed):
        raise ValueError(
            "silence: at least one matcher must not match the empty string "
            "(this one would mute every alert)"
        )
    if duration <= timedelta(0):
        raise ValueError("a silence needs a positive duration")
    now = (clock or SystemClock()).now()
    start = starts_at or now
    silence = Silence(uuid.uuid4().hex, parsed, start, start + duration, created_by, comment, now)
    store.con.execute(
        "INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            silence.silence_id,
            json.dumps([m.as_dict() for m in parsed]),
            silence.starts_at,
            silence.ends_at,
            created_by,
            comment,
            now,
        ],
    )
    return silence


def list_silences(store: Store, *, include_expired: bool = False, clock: Clock | None = None):
    now = (clock or SystemClock()).now()
    found = [_from_row(r) for r in store.rows("SELECT * FROM silences ORDER BY created_at")]
    return [s for s in found if include_expired or s.state(now) != "expired"]


def expire_silence(store: Store, silence_id: str, clock: Clock | None = None) -> Silence:
    """End a silence now (ids may be abbreviated to a unique prefix)."""
    now = (clock or SystemClock()).now()
    rows = store.rows("SELECT * FROM silences WHERE silence_id LIKE ? || '%'", [silence_id])
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} silences match {silence_id!r}")
    silence = _from_row(rows[0])
    if silence.state(now) != "expired":
        store.con.execute(
            "UPDATE silences SET ends_at = ? WHERE silence_id = ?", [now, silence.silence_id]
        )
    return _from_row(
        store.rows("SELECT * FROM silences WHERE silence_id = ?", [silence.silence_id])[0]
    )


def active_silences(store: Store, at: datetime) -> list[Silence]:
    rows = store.rows("SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ?", [at, at])
    return [_from_row(r) for r in rows]


def _from_row(row: dict[str, Any]) -> Silence:
    matchers = tuple(Matcher(m["name"], m["op"], m["value"]) for m in json.loads(row["matchers"]))
    return Silence(
        row["silence_id"],
        matchers,
        row["starts_at"],
        row["ends_at"],
        row["created_by"] or "",
        row["comment"] or "",
        row["created_at"],
    )
