"""Sigma engine: the built-in pack's own tests, correlation timespans, case-insensitive and
LIKE-escaped matching, and broken rule files reported without stopping the others."""

from __future__ import annotations

from pathlib import Path

from sigma.collection import SigmaCollection

from agentaudit.detect.driver import run_detection
from agentaudit.detect.sigma.backend import AgentAuditDuckDBBackend
from agentaudit.detect.sigma.detector import SigmaRules
from agentaudit.detect.sigma.loader import load_rules
from agentaudit.detect.sigma.run import run_rules
from agentaudit.detect.sigma.testing import run_tests
from agentaudit.testing import event, store_with


def test_every_rule_passes_its_own_tests():
    ruleset = load_rules()
    assert ruleset.errors == []
    results = run_tests()
    assert len(results) >= 20
    assert [r for r in results if not r.passed] == []


MASS_DESTRUCTION = [
    "rm -rf ~/a",
    "git reset --hard",
    "rm -rf /srv/data",
    "git clean -fdx",
    "rm -rf ~/b",
]


def _burst(spacing_seconds):
    ruleset = load_rules()
    events = [
        event(i * spacing_seconds, session_id="s1", command=cmd)
        for i, cmd in enumerate(MASS_DESTRUCTION)
    ]
    findings, errors = run_rules(
        store_with(events), ruleset, only=["agentaudit_destructive_burst_1m"]
    )
    assert errors == []
    return findings


def test_one_minute_correlation_fires_on_five_within_a_minute():
    findings = _burst(12)
    assert len(findings) == 1
    assert findings[0]["kind"] == "correlation" and findings[0]["severity"] == "critical"
    assert len(findings[0]["event_ids"]) == 5


def test_one_minute_correlation_silent_on_five_spread_over_an_hour():
    assert _burst(900) == []


def _where(detection_yaml):
    rule = SigmaCollection.from_yaml(
        "title: t\nlogsource: {product: agentaudit, category: process}\ndetection:\n"
        + detection_yaml
    )
    return AgentAuditDuckDBBackend().convert(rule)[0]


def test_matching_is_case_insensitive_and_escapes_like_wildcards():
    store = store_with(
        [
            event(0, tool_name="Bash", command="touch rm_x"),
            event(1, tool_name="bash", command="touch rmAx"),
        ]
    )
    eq = _where("  sel: {tool_name: bash}\n  condition: sel")
    assert len(store.rows(f"SELECT * FROM events WHERE {eq}")) == 2
    contains = _where("  sel: {command|contains: rm_x}\n  condition: sel")
    assert "\\_" in contains
    rows = store.rows(f"SELECT command FROM events WHERE {contains}")
    assert [r["command"] for r in rows] == ["touch rm_x"]
    quoted = _where('  sel: {command|contains: "it\'s"}\n  condition: sel')
    assert "it''s" in quoted


def test_broken_rule_file_is_named_and_others_still_load(tmp_path: Path):
    (tmp_path / "good.yml").write_text(
        "title: Good\nname: good_rule\nlogsource: {product: agentaudit, category: process}\n"
        "detection:\n  sel: {command|contains: shred}\n  condition: sel\nlevel: high\n"
    )
    (tmp_path / "bad.yml").write_text(
        "title: Bad\nlogsource: {product: agentaudit}\ndetection:\n  sel: {a: b}\n"
        "  condition: sel and nothere\nlevel: severe\n"
    )
    ruleset = load_rules([tmp_path])
    assert [r.name for r in ruleset.rules] == ["good_rule"]
    assert len(ruleset.errors) == 1 and ruleset.errors[0].path.endswith("bad.yml")
    findings, _ = run_rules(store_with([event(0, command="shred -u secrets.txt")]), ruleset)
    assert [f["rule_id"] for f in findings] == ["sigma:good_rule"]


def test_sigma_detector_plugs_into_detection():
    store = store_with([event(0, session_id="s1", command="history -c")])
    report = run_detection(store, [SigmaRules()])
    kinds = {(f["rule_id"], f["kind"]) for f in report.findings}
    assert ("sigma:agentaudit_audit_tamper", "rule") in kinds


def test_rules_are_validated_against_the_sigma_json_schema(tmp_path: Path):
    (tmp_path / "severe.yml").write_text(
        "title: Severe\ndate: 2026-11-22\nlogsource: {product: agentaudit, category: process}\n"
        "detection:\n  sel: {command|contains: shred}\n  condition: sel\nlevel: severe\n"
    )
    (tmp_path / "dated.yml").write_text(
        "title: Dated\nname: dated\ndate: 2026-11-22\nlogsource: {product: agentaudit, category: process}\n"
        "detection:\n  sel: {command|contains: shred}\n  condition: sel\nlevel: low\n"
    )
    ruleset = load_rules([tmp_path])
    assert [r.name for r in ruleset.rules] == ["dated"]
    assert len(ruleset.errors) == 1
    assert ruleset.errors[0].path.endswith("severe.yml") and "schema" in ruleset.errors[0].problem


def test_pack_covers_every_command_category_and_the_railway_catalog():
    from agentaudit.detect.sigma.loader import BUILTIN_DIR
    from agentaudit.enrich.catalog import railway
    from agentaudit.enrich.commands.model import COMMAND_CATEGORIES

    text = "\n".join(
        p.read_text() for p in BUILTIN_DIR.glob("*.yml") if not p.name.endswith(".tests.yml")
    )
    assert [c for c in sorted(COMMAND_CATEGORIES) if c not in text] == []
    assert [m for m in railway.MUTATIONS if m not in text] == []


def test_sigma_rules_are_part_of_the_default_detection_with_an_opt_out(monkeypatch):
    events = [
        event(0, session_id="s1", command="grep -rn RAILWAY_TOKEN ."),
        event(30, session_id="s1", command="railway volume delete --volume v1 --yes"),
    ]
    monkeypatch.delenv("AGENTAUDIT_SIGMA", raising=False)
    found = {(f["rule_id"], f["severity"]) for f in run_detection(store_with(events)).findings}
    assert ("sigma:agentaudit_secret_then_destroy", "high") in found
    assert ("sigma:agentaudit_backup_destroy", "high") in found
    # the read alone is a building block: the category on the event, no finding
    assert not any(rule == "sigma:agentaudit_credential_access" for rule, _ in found)
    monkeypatch.setenv("AGENTAUDIT_SIGMA", "0")
    silent = {f["rule_id"] for f in run_detection(store_with(events)).findings}
    assert not any(r.startswith("sigma:") for r in silent)


def three_sessions() -> list[dict]:
    """A secret read then a delete, a tamper then a delete, and a burst: every rule kind."""
    return [
        event(0, session_id="s1", command="grep -rn RAILWAY_TOKEN ."),
        event(20, session_id="s1", command="railway volume delete --volume v1 --yes"),
        event(40, session_id="s1", command="rm -rf ~"),
        event(50, session_id="s2", command="history -c"),
        event(60, session_id="s2", command="aws s3 rb s3://prod-assets --force"),
        *(event(70 + i, session_id="s3", command=f"rm -rf ~/dir{i}") for i in range(5)),
    ]


def test_one_scan_finds_what_one_query_per_rule_finds():
    events = three_sessions()
    ruleset = load_rules()
    one_scan, errors = run_rules(store_with(events), ruleset)
    per_rule, per_rule_errors = run_rules(store_with(events), ruleset, one_scan=False)
    assert errors == per_rule_errors == []
    key = lambda f: (f["finding_id"], f["rule_id"], f["severity"], tuple(f["event_ids"]))  # noqa: E731
    assert sorted(map(key, one_scan)) == sorted(map(key, per_rule))
    assert {"sigma:agentaudit_destructive_burst_1m", "sigma:agentaudit_destroy_and_tamper"} <= {
        f["rule_id"] for f in one_scan
    }


def test_the_packs_one_statement_runs_as_is():
    """The pack's one statement (matches, base findings and correlations) runs without the
    per-rule fallback and finds both kinds."""
    from agentaudit.detect.sigma.run import OneScan

    scan = OneScan.of(load_rules())
    together, errors = scan.run(store_with(three_sessions()))
    assert errors == []
    assert {f["kind"] for f in together} == {"rule", "correlation"}


def test_one_scan_reports_a_rule_that_cannot_convert_and_runs_the_others(tmp_path):
    (tmp_path / "good.yml").write_text(
        "title: Good\nname: good_rule\nlogsource: {product: agentaudit, category: process}\n"
        "detection:\n  sel: {command|contains: shred}\n  condition: sel\nlevel: low\n"
    )
    (tmp_path / "unknown_field.yml").write_text(
        "title: Unknown field\nname: unknown_field\nlogsource: {product: agentaudit}\n"
        "detection:\n  sel: {no_such_column: x}\n  condition: sel\nlevel: low\n"
    )
    ruleset = load_rules([tmp_path])
    findings, errors = run_rules(store_with([event(0, command="shred -u a.txt")]), ruleset)
    assert [f["rule_id"] for f in findings] == ["sigma:good_rule"]
    assert len(errors) == 1 and errors[0].path.endswith("unknown_field.yml")


def test_the_pack_is_parsed_once_until_a_rule_file_changes(tmp_path):
    import os

    from agentaudit.detect.sigma.loader import load_rules_cached

    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: R\nname: r\nlogsource: {product: agentaudit, category: process}\n"
        "detection:\n  sel: {command|contains: shred}\n  condition: sel\nlevel: low\n"
    )
    first = load_rules_cached([tmp_path])
    assert load_rules_cached([tmp_path]) is first
    rule.write_text(rule.read_text().replace("level: low", "level: medium"))
    os.utime(rule, ns=(rule.stat().st_atime_ns, rule.stat().st_mtime_ns + 1_000_000))
    again = load_rules_cached([tmp_path])
    assert again is not first and str(again.rules[0].level.name).lower() == "medium"


def test_anchor_is_true_exactly_where_some_rule_matches():
    """Watch skips the pack on a window where no base rule matches any event: then the pack
    cannot find anything, so the skip changes nothing."""
    detector = SigmaRules()
    detector.prepare()
    benign = [event(i, session_id="b", command=c) for i, c in enumerate(["git status", "ls"])]
    risky = [*benign, event(9, session_id="b", command="rm -rf ~")]
    for events, expected in ((benign, False), (risky, True)):
        store = store_with(events)
        has = store.con.execute(f"SELECT bool_or({detector.anchor}) FROM events").fetchall()
        assert has[0][0] is expected
        assert bool(detector.run(store_with(events))) is expected
