"""Silences and inhibition: which alerts are muted now (Alertmanager's Muter).

Inhibition, as in Alertmanager's inhibit.go: a target alert is muted while a firing source
alert has the same values for the `equal` labels (a missing label and an empty one are the
same). An alert matching both sides of a rule is not inhibited by alerts for which the same is
true (including itself), so two criticals survive a rule `critical -> critical|high`. Sources
inhibit whether or not they are muted themselves. A silence mutes the alerts matching all its
matchers while it is active. Muted alerts are `suppressed` and left out of notifications.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from datetime import datetime

from agentaudit.alert.config import InhibitRule
from agentaudit.alert.labels import label_value
from agentaudit.alert.matchers import Labels, all_match
from agentaudit.alert.silences import Silence, active_silences
from agentaudit.store import Store


class Muter:
    """The rules, the active silences and the firing alerts of one instant."""

    def __init__(
        self,
        rules: tuple[InhibitRule, ...],
        silences: list[Silence] | Callable[[], list[Silence]],
        firing: Iterable[tuple[str, Labels]],
    ) -> None:
        self.rules = rules
        self._silences = silences
        # per rule: equal-label values -> the firing sources (fingerprint, matches target too)
        self.sources: list[dict[tuple[str, ...], list[tuple[str, bool]]]] = []
        firing = list(firing)
        for rule in rules:
            by_key: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
            for fp, labels in firing:
                if all_match(rule.source_matchers, labels):
                    two_sided = all_match(rule.target_matchers, labels)
                    by_key.setdefault(_equal_key(rule, labels), []).append((fp, two_sided))
            self.sources.append(by_key)

    @functools.cached_property
    def silences(self) -> list[Silence]:
        return self._silences() if callable(self._silences) else self._silences

    def silenced_by(self, labels: Labels) -> list[str]:
        return sorted(s.silence_id for s in self.silences if all_match(s.matchers, labels))

    def inhibited_by(self, labels: Labels) -> list[str]:
        found: set[str] = set()
        for rule, by_key in zip(self.rules, self.sources, strict=True):
            if not all_match(rule.target_matchers, labels):
                continue
            two_sided = all_match(rule.source_matchers, labels)
            found.update(
                fp
                for fp, source_two_sided in by_key.get(_equal_key(rule, labels), ())
                if not (two_sided and source_two_sided)
            )
        return sorted(found)

    def mutes(self, labels: Labels) -> bool:
        return bool(self.silenced_by(labels) or self.inhibited_by(labels))


def _equal_key(rule: InhibitRule, labels: Labels) -> tuple[str, ...]:
    return tuple(label_value(labels.get(k, "")) for k in rule.equal)


@functools.lru_cache(maxsize=8192)  # every evaluation reads every open alert's labels
def labels_from_json(text: str) -> Labels:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()}


def labels_json(labels: Labels) -> str:
    return json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in labels.items()}, sort_keys=True
    )


def update_states(
    store: Store, rules: tuple[InhibitRule, ...], now: datetime, changes: dict[str, list]
) -> Muter:
    """Mark every firing alert active or suppressed (with who mutes it), record the changes;
    return the Muter of this instant (the flush asks it about resolved alerts)."""
    members = store.rows(
        """SELECT alert_id, fingerprint, labels, state, silenced_by, inhibited_by
           FROM alert_members WHERE state <> 'resolved'"""
    )  # (resolve_ended ran first: each of these fires until a later instant)
    labelled = [(m, labels_from_json(m["labels"])) for m in members]
    muter = Muter(
        rules,
        lambda: active_silences(store, now),  # read when first asked
        ((m["fingerprint"], lb) for m, lb in labelled),
    )
    for member, labels in labelled:
        silenced_by = muter.silenced_by(labels)
        inhibited_by = muter.inhibited_by(labels)
        state = "suppressed" if silenced_by or inhibited_by else "active"
        old = (member["state"], member["silenced_by"] or [], member["inhibited_by"] or [])
        if (state, silenced_by, inhibited_by) == (old[0], sorted(old[1]), sorted(old[2])):
            continue
        store.con.execute(
            """UPDATE alert_members SET state = ?, silenced_by = ?, inhibited_by = ?,
               updated_at = ? WHERE alert_id = ? AND fingerprint = ?""",
            [state, silenced_by, inhibited_by, now, member["alert_id"], member["fingerprint"]],
        )
        if member["state"] != state:
            why = "silenced" if silenced_by else ("inhibited" if inhibited_by else "unmuted")
            changes.setdefault(member["alert_id"], []).append((why, member["fingerprint"]))
    return muter
