"""What an API operation does, read from its name: the verb and the object it acts on.

Provider APIs name operations verb-first (`DeleteDBInstance`, `StopLogging`,
`google.logging.v2.ConfigServiceV2.DeleteSink`, `BatchDeleteItem`, `AdminDeleteUser`). The
verb gives the effect (read, write, delete, stop, disable, detach, revoke, expire); the object
words say what kind of thing is hit. Shared by the AWS table generator and the GCP catalog.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z][a-z0-9]*")
_PREFIXES = {"Batch", "Admin", "Agentic"}  # `BatchDeleteItem`, `AdminDeleteUser`: the next word

_VERBS_BY_EFFECT = {
    "read": """List Get Describe Head Search Query Scan Lookup Check Validate Estimate Preview
        Select Simulate Test Verify View Count Fetch Filter Retrieve Poll Download Detect
        Discover Evaluate Explain Compare Read Calculate Is Analyze Sample Suggest Predict
        Recognize Infer Translate Converse Chat Monitor Decrypt Sign Encrypt Generate""",
    "delete": "Delete Terminate Purge Destroy Deprovision Erase Wipe Drop",
    "stop": "Stop Shutdown Pause Suspend",
    "disable": "Disable Deactivate",
    "detach": """Detach Disassociate Dissociate Remove Deregister Unregister Unassign Unlink
        Unshare Unsubscribe Leave""",
    "revoke": "Revoke Deauthorize Withdraw",
    "expire": "Expire",
    "reset": "Reset Rotate",
}
EFFECTS: dict[str, str] = {
    verb: effect for effect, verbs in _VERBS_BY_EFFECT.items() for verb in verbs.split()
}


def words(name: str) -> list[str]:
    """`DeleteDBSubnetGroup` -> ['Delete', 'DB', 'Subnet', 'Group'] (a date suffix dropped)."""
    return _WORD.findall(name)


def verb_and_object(name: str) -> tuple[str, list[str]]:
    """The verb and the object words of an operation name; a `Batch`/`Admin` prefix skipped."""
    parts = words(name)
    while len(parts) > 1 and parts[0] in _PREFIXES:
        parts = parts[1:]
    if not parts:
        return "", []
    return parts[0][:1].upper() + parts[0][1:], parts[1:]


def effect_of(name: str) -> str:
    """read, write, delete, stop, disable, detach, revoke, expire or reset (anything else is
    a write: create, update, put, start...)."""
    verb, _object = verb_and_object(name)
    return EFFECTS.get(verb, "write")
