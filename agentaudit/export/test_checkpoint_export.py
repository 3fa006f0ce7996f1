"""Each signed chain checkpoint leaves the host on the export stream, once, as valid OCSF."""

from __future__ import annotations

import io
import json

from agentaudit.export.stream import export_to
from agentaudit.store import Store
from agentaudit.store.chain import signing
from agentaudit.testing import event
from tests.ocsf_validation import ocsf_errors


def _export(store: Store, fmt: str = "ocsf") -> list[dict]:
    out = io.StringIO()
    export_to(store, fmt, out, cursor_name=f"siem-{fmt}")
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_checkpoints_are_exported_once_as_ocsf_that_checks_with_the_public_key(tmp_path):
    path = tmp_path / "store.duckdb"
    with Store.open(path) as store:
        store.append_events([event(1, command="rm -rf build")])
    with Store.open(path) as store:  # closing signed checkpoint 1
        records = [r for r in _export(store) if r["class_uid"] == 1008]
        assert len(records) == 1 and ocsf_errors(records[0]) == []
        signed = records[0]["unmapped"]["agentaudit"]["checkpoint"]
        statement = {k: v for k, v in signed.items() if k != "signature"}
        public = signing.load_or_create_key().public_key()
        assert signing.signature_ok(public, statement, signed["signature"])
        assert [r for r in _export(store) if r["class_uid"] == 1008] == []  # cursor moved
        ecs = [d for d in _export(store, "ecs") if d["event"].get("action") == "checkpoint"]
        assert ecs[0]["agentaudit"]["checkpoint"]["checkpoint"] == 1
        store.append_events([event(2, command="terraform destroy")])
    with Store.open(path) as store:
        records = [r for r in _export(store) if r["class_uid"] == 1008]
        assert [r["unmapped"]["agentaudit"]["checkpoint"]["checkpoint"] for r in records] == [2]
