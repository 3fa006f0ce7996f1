"""Targets kept with the pages queued for them, so a page survives a configuration change.

A `--notify URL` run has no alerting.yml: without this, a later `alert run` could not send the
page it queued. Every target a page is queued for is kept here until no pending page needs it.
The file holds URLs and routing keys (secrets), so it lives in the private data directory,
mode 0600, like alerting.yml; the store keeps only the target id and a masked URL.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.alert.config import AlertmanagerTarget, AppriseTarget, PagerDutyTarget, Target

FILENAME = "pending-targets.json"
_KINDS: dict[str, type] = {
    "apprise": AppriseTarget,
    "pagerduty": PagerDutyTarget,
    "alertmanager": AlertmanagerTarget,
}


def kept_path() -> Path:
    return paths.home() / FILENAME


def load() -> dict[str, Target]:
    """The kept targets by id; an unreadable or damaged file keeps nothing (one bad file must
    not stop delivery of the pages whose targets are in the config)."""
    try:
        data = json.loads(kept_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    targets: dict[str, Target] = {}
    for spec in data.values() if isinstance(data, dict) else ():
        kind = _KINDS.get(spec.pop("kind", None)) if isinstance(spec, dict) else None
        if "tags" in spec:
            spec["tags"] = tuple(spec["tags"])
        try:
            target = kind(**spec) if kind else None
        except TypeError:
            continue
        if target is not None:
            targets[target.target_id] = target
    return targets


def remember(targets: list[Target]) -> None:
    kept = load()
    if all(t.target_id in kept for t in targets):
        return
    kept.update({t.target_id: t for t in targets})
    _write(kept)


def keep_only(target_ids: set[str]) -> None:
    """Forget the targets no pending page needs any more."""
    kept = load()
    if set(kept) <= target_ids:
        return
    _write({i: t for i, t in kept.items() if i in target_ids})


def _write(targets: dict[str, Target]) -> None:
    data: dict[str, Any] = {
        i: {"kind": t.target_id.split(":", 1)[0], **dataclasses.asdict(t)}
        for i, t in targets.items()
    }
    path = kept_path()
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)  # atomic: a crash leaves the old file or the new one
