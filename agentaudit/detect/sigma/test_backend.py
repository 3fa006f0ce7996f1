"""The DuckDB backend's modifiers, run against a real store (not compared as strings only)."""

from __future__ import annotations

import pytest
from sigma.collection import SigmaCollection

from agentaudit.detect.sigma.backend import AgentAuditDuckDBBackend
from agentaudit.testing import event, store_with


@pytest.fixture(scope="module")
def store():
    return store_with(
        [
            event(0, command="rm -rf /x", exit_code=2, host="10.1.2.3", url="http://10.1.2.3/a"),
            event(1, command="LS", exit_code=0, host="192.168.0.1"),
            event(2, command="echo 100%_done", exit_code=0),
        ]
    )


def matches(store, detection: str) -> list[str]:
    rule = SigmaCollection.from_yaml(
        "title: t\nlogsource: {product: agentaudit, category: process}\ndetection:\n" + detection
    )
    where = AgentAuditDuckDBBackend().convert(rule)[0]
    return sorted(r["command"] for r in store.rows(f"SELECT command FROM events WHERE {where}"))


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ("  sel: {command: ls}\n  condition: sel", ["LS"]),
        ("  sel: {command|cased: ls}\n  condition: sel", []),
        ("  sel: {command|startswith: RM}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {command|endswith: '/X'}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {command|contains: '%_'}\n  condition: sel", ["echo 100%_done"]),
        ("  sel: {command|contains: 'o 1_0'}\n  condition: sel", []),
        ("  sel: {command: 'r?-*'}\n  condition: sel", []),
        ("  sel: {command: 'r? -*'}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {command|contains|all: [rm, /x]}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {command|re: '^(ls|LS)$'}\n  condition: sel", ["LS"]),
        ("  sel: {command|re|i: '^ls$'}\n  condition: sel", ["LS"]),
        ("  sel: {exit_code|gt: 0}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {host|cidr: 10.0.0.0/8}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {url|exists: true}\n  condition: sel", ["rm -rf /x"]),
        ("  sel: {command|windash|contains: '-rf'}\n  condition: sel", ["rm -rf /x"]),
        ("  keywords: ['100%']\n  condition: keywords", ["echo 100%_done"]),
        ("  a: {command|contains: rm}\n  b: {exit_code: 2}\n  condition: a and not b", []),
        (
            "  a: {command|contains: rm}\n  b: {command: ls}\n  condition: 1 of them",
            ["LS", "rm -rf /x"],
        ),
    ],
)
def test_modifier(store, detection, expected):
    assert matches(store, detection) == expected


def test_unknown_field_is_an_error_not_an_empty_result(store):
    with pytest.raises(Exception, match="not a canonical column"):
        matches(store, "  sel: {NoSuchField: x}\n  condition: sel")
