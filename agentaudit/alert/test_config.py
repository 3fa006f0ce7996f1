"""The alerting YAML: routes by severity, labels and source; receivers with apprise tags and
PagerDuty; matchers; durations; and the silence CLI."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import load_config, parse_config, parse_duration
from agentaudit.alert.engine import evaluate
from agentaudit.alert.matchers import Matcher
from agentaudit.cli import app
from tests.alerting_helpers import add_finding, outbox_rows

CONFIG = {
    "global": {"resolve_timeout": "45m"},
    "apprise": [
        {"url": "json://127.0.0.1:9/soc", "tags": ["soc"]},
        {"url": "json://127.0.0.1:9/chat", "tags": "soc, chat"},
        {"url": "mailto://user:pw@example.invalid", "tags": ["email"]},
    ],
    "receivers": [
        {"name": "soc", "apprise_tags": ["soc"]},
        {"name": "chat-only", "apprise_tags": ["soc, chat"]},
        {"name": "email", "apprise_tags": ["email"]},
        {"name": "oncall", "pagerduty": {"routing_key_env": "TEST_PD_KEY"}},
    ],
    "route": {
        "receiver": "soc",
        "group_wait": "0s",
        "routes": [
            {
                "name": "page",
                "matchers": ["severity=critical", "environment=production"],
                "receiver": "oncall",
                "continue": True,
            },
            {"name": "provider", "matchers": ["source=~railway\\..*"], "receiver": "chat-only"},
            {"name": "mail", "matchers": ["severity=~low|medium"], "receiver": "email"},
        ],
    },
}


@pytest.fixture
def cfg(monkeypatch):
    monkeypatch.setenv("TEST_PD_KEY", "k" * 32)
    return parse_config(CONFIG)


def test_receivers_select_apprise_urls_by_tag(cfg):
    soc = {t.url for t in cfg.receivers["soc"].apprise}
    assert soc == {"json://127.0.0.1:9/soc", "json://127.0.0.1:9/chat"}  # OR of tags
    assert [t.url for t in cfg.receivers["chat-only"].apprise] == ["json://127.0.0.1:9/chat"]
    assert cfg.receivers["oncall"].pagerduty[0].routing_key == "k" * 32
    assert cfg.receivers["email"].send_resolved is False  # Alertmanager's email default
    assert cfg.receivers["soc"].send_resolved is True
    assert cfg.resolve_timeout == parse_duration("45m")


def test_routes_by_severity_labels_and_source(cfg):
    def routed(**labels):
        base = {"severity": "high", "environment": "", "source": ("shell.zsh",)}
        return [r.name for r in cfg.route.match({**base, **labels})]

    # Alertmanager: a matching child takes the alert from its parent; `continue` goes on to
    # the next siblings
    assert routed(severity="critical", environment="production") == ["page"]
    both = routed(severity="critical", environment="production", source=("railway.audit",))
    assert both == ["page", "provider"]
    assert routed(severity="critical", source=("cursor.hooks", "railway.audit")) == ["provider"]
    assert routed(severity="medium") == ["mail"]
    assert routed() == ["default"]
    child = cfg.routes()["page"]
    assert child.group_wait == parse_duration("0s")  # inherited from the parent
    assert child.group_interval == parse_duration("5m")  # Alertmanager default


def test_a_finding_reaches_every_route_it_matches(store, cfg):
    clock = ManualClock()
    add_finding(store, "provider-delete", "critical", source="railway.audit")
    evaluate(store, cfg, clock)
    receivers = sorted((r["receiver"], r["target"]) for r in outbox_rows(store))
    assert receivers == [
        ("chat-only", "json://127.0.0.1:9/…"),
        ("oncall", "pagerduty https://events.pagerduty.com/…"),
    ]
    # one group per route, but one incident: the incident id (PagerDuty dedup_key, OCSF
    # finding_info.uid) does not depend on the routes that notify it
    assert len({r["alert_id"] for r in outbox_rows(store)}) == 1
    assert store.count("alerts") == 1 and store.count("alert_groups") == 2


def test_matchers_and_bad_config_are_rejected_clearly():
    assert Matcher.parse('rule_id=~"destr.*"').matches({"rule_id": "destructive-burst"})
    assert not Matcher.parse("rule_id!~destr.*").matches({"rule_id": "destructive-burst"})
    assert Matcher.parse("user!=bob").matches({})
    assert Matcher.parse("agent=").matches({})  # missing label == empty
    with pytest.raises(ValueError, match="not a matcher"):
        Matcher.parse("just-text")
    with pytest.raises(ValueError, match="unknown receiver `nobody`"):
        parse_config({"route": {"receiver": "nobody"}})
    with pytest.raises(ValueError, match="routing_key"):
        parse_config(
            {
                "receivers": [{"name": "x", "pagerduty": {"routing_key_env": "UNSET_VAR_X"}}],
                "route": {"receiver": "x"},
            }
        )
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    assert parse_duration("1h30m").total_seconds() == 5400


def test_config_file_location(tmp_path, monkeypatch):
    path = tmp_path / "alerting.yml"
    path.write_text(yaml.safe_dump({"route": {"receiver": "r"}, "receivers": [{"name": "r"}]}))
    monkeypatch.setenv("AGENTAUDIT_ALERTING", str(path))
    assert load_config().route.receiver == "r"
    monkeypatch.setenv("AGENTAUDIT_ALERTING", str(tmp_path / "absent.yml"))
    assert load_config() is None
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.yml")


def test_silence_cli_add_list_expire(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "s.duckdb")
    added = runner.invoke(
        app,
        [
            "silence", "add", "--match", "rule_id=destructive-burst", "--match", "user=~ci-.*",
            "--for", "2h", "--comment", "migration window", "--by", "alice", "--db", db, "--json",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    silence = json.loads(added.output)
    # shown in Alertmanager's form (amtool's): the value quoted
    assert silence["matchers"] == ['rule_id="destructive-burst"', 'user=~"ci-.*"']
    assert silence["state"] == "active" and silence["created_by"] == "alice"
    listed = json.loads(runner.invoke(app, ["silence", "list", "--db", db, "--json"]).output)
    assert [s["id"] for s in listed] == [silence["id"]]
    expired = runner.invoke(app, ["silence", "expire", silence["id"][:8], "--db", db])
    assert expired.exit_code == 0 and "expired" in expired.output
    assert json.loads(runner.invoke(app, ["silence", "list", "--db", db, "--json"]).output) == []
    everything = runner.invoke(app, ["silence", "list", "--all", "--db", db, "--json"])
    assert json.loads(everything.output)[0]["state"] == "expired"
    no_comment = runner.invoke(
        app, ["silence", "add", "--match", "a=b", "--for", "1h", "--comment", " ", "--db", db]
    )
    assert no_comment.exit_code == 2 and "comment" in no_comment.output


def test_the_readme_example_config_parses(monkeypatch):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## Alerting and SIEM export")[1].split("```yaml\n")[1].split("```")[0]
    monkeypatch.setenv("PD_ROUTING_KEY", "p" * 32)
    cfg = parse_config(yaml.safe_load(block))
    assert sorted(cfg.routes()) == ["default", "page", "soc-rest"]
    assert [len(cfg.receivers["soc"].apprise), len(cfg.receivers["oncall"].pagerduty)] == [2, 1]
    labels = {"severity": "critical", "environment": "production"}
    assert [r.name for r in cfg.route.match(labels)] == ["page", "soc-rest"]
