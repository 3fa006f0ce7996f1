"""alerting.yml is checked strictly: every problem is one line naming file:line, where, and
what to write instead; Alertmanager's keys that agentaudit does not implement are rejected
with their replacement; labels no alert has are rejected; matchers parse as Alertmanager's."""

from __future__ import annotations

import textwrap

import pytest

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import ConfigError, load_config, parse_config, parse_duration
from agentaudit.alert.matchers import Matcher, parse_matchers
from agentaudit.alert.silences import add_silence

BASE = """\
receivers:
  - name: soc
    apprise_urls: ["json://127.0.0.1:9/soc"]
route:
  receiver: soc
  group_wait: 30s
"""


def error_of(tmp_path, text: str) -> str:
    path = tmp_path / "alerting.yml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def test_a_typo_names_the_line_and_the_key_meant(tmp_path):
    message = error_of(tmp_path, BASE + "  group_wiat: 10s\n")
    assert message == "7 (route): unknown key `group_wiat`; did you mean `group_wait`?"
    nested = BASE + "  routes:\n    - receiver: soc\n      contine: true\n"
    assert error_of(tmp_path, nested).startswith("9 (route.routes[0]): unknown key `contine`")


def test_alertmanager_legacy_matchers_are_rejected_with_the_form_to_write(tmp_path):
    route = BASE + "  routes:\n    - receiver: soc\n      match: {severity: critical}\n"
    assert error_of(tmp_path, route) == (
        "9 (route.routes[0]): unknown key `match`; `match` is Alertmanager's deprecated "
        "form; write `matchers: [severity=critical]`"
    )
    regex = BASE + "  routes:\n    - receiver: soc\n      match_re: {rule_id: 'destr.*'}\n"
    assert 'write `matchers: [rule_id=~"destr.*"]`' in error_of(tmp_path, regex)
    rule = BASE + "inhibit_rules:\n  - source_match: {severity: critical}\n"
    assert error_of(tmp_path, rule).startswith(
        "8 (inhibit_rules[0]): unknown key `source_match`; `source_match` is Alertmanager's "
        "deprecated form; write `source_matchers: [severity=critical]`"
    )
    target = BASE + "inhibit_rules:\n  - target_match_re: {severity: 'high|low'}\n"
    assert 'write `target_matchers: [severity=~"high|low"]`' in error_of(tmp_path, target)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("slack_configs", 'apprise_urls: ["slack://'),
        ("pagerduty_configs", "pagerduty: {routing_key_env: PD_ROUTING_KEY}"),
        ("webhook_configs", 'apprise_urls: ["json://'),
        ("victorops_configs", "receivers here take `apprise_urls`, `apprise_tags`, `pagerduty`"),
    ],
)
def test_alertmanager_receiver_configs_point_to_what_receivers_take(tmp_path, key, hint):
    text = BASE.replace("    apprise_urls:", f"    {key}: [{{}}]\n    apprise_urls:")
    message = error_of(tmp_path, text)
    assert message.startswith(f"3 (receivers[0]): unknown key `{key}`")
    assert hint in message and "see README, Alerting" in message


def test_unsupported_alertmanager_sections_and_globals_say_so(tmp_path):
    assert "there are no templates" in error_of(tmp_path, BASE + "templates: ['*.tmpl']\n")
    assert "mute with `agentaudit silence add`" in error_of(tmp_path, BASE + "time_intervals: []\n")
    smtp = "global:\n  smtp_smarthost: mail:25\n" + BASE
    assert error_of(tmp_path, smtp) == (
        "2 (global): unknown key `smtp_smarthost`; global here takes resolve_timeout and delivery"
    )


def test_broken_yaml_is_one_line_with_its_line(tmp_path):
    message = error_of(tmp_path, BASE + "  routes: [\n    - receiver: soc\n")
    assert message.startswith("8: YAML syntax error:")
    assert error_of(tmp_path, "route: {receiver: a\n").startswith("2: YAML syntax error")
    twice = BASE + "  group_wait: 10s\n"
    assert error_of(tmp_path, twice) == "7: key `group_wait` appears twice"


def test_labels_no_alert_has_are_rejected(tmp_path):
    route = BASE + "  routes:\n    - receiver: soc\n      matchers: ['team=\"sec\"']\n"
    assert "no alert has a label `team`; labels: alertname, rule_id" in error_of(tmp_path, route)
    typo = BASE + "  group_by: [sesion_id]\n"
    assert error_of(tmp_path, typo).startswith(
        "7 (route): no alert has a label `sesion_id`; did you mean `session_id`?"
    )
    equal = BASE + (
        "inhibit_rules:\n  - {source_matchers: [severity=critical], "
        "target_matchers: [severity=high], equal: [cluster]}\n"
    )
    assert "no alert has a label `cluster`" in error_of(tmp_path, equal)
    assert "`...` (every label) cannot be combined" in error_of(
        tmp_path, BASE + "  group_by: ['...', severity]\n"
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("group_wait: 0.5s", "`group_wait: 0.5s` is not a duration"),
        ("group_wait: 30", "`group_wait: 30` is not a duration; write e.g. 30s"),
        ("group_interval: 0s", "`group_interval` cannot be zero"),
        ("repeat_interval: 0", "`repeat_interval` cannot be zero"),
        ("continue: true", "the root route cannot have `continue`"),
        ("matchers: [severity=critical]", "the root route matches every alert"),
        ("receiver: nobody", "unknown receiver `nobody` (receivers: soc)"),
    ],
)
def test_route_values_are_checked(tmp_path, setting, expected):
    text = BASE.replace("  group_wait: 30s\n", f"  {setting}\n")
    if setting.startswith("receiver"):
        text = text.replace("  receiver: soc\n", "")
    assert expected in error_of(tmp_path, text)


def test_durations_in_alertmanager_form_load():
    cfg = parse_config(
        {
            "receivers": [{"name": "r"}],
            "route": {"receiver": "r", "group_wait": "0s", "group_interval": "500ms",
                      "repeat_interval": "1h30m"},
        }
    )  # fmt: skip
    assert cfg.route.group_interval == parse_duration("500ms")
    assert cfg.route.repeat_interval.total_seconds() == 5400


def test_receivers_that_would_reach_nobody_by_mistake(tmp_path):
    text = BASE.replace(
        '    apprise_urls: ["json://127.0.0.1:9/soc"]\n', "    apprise_tags: [oncall]\n"
    )
    shared = "apprise:\n  - {url: 'json://127.0.0.1:9/x', tags: [soc]}\n" + text
    assert "apprise_tags `oncall` selects no URL of `apprise:` (its tags: ['soc'])" in error_of(
        tmp_path, shared
    )
    no_route = "receivers:\n  - name: soc\n"
    assert (
        error_of(tmp_path, no_route)
        == "1 (top level): no `route:`; write `route: {receiver: NAME}`"
    )


def test_a_page_never_mixes_incidents(tmp_path):
    coarse = (
        BASE
        + "  group_by: [session_id, rule_family]\n  routes:\n"
        + ("    - {receiver: soc, group_by: [session_id]}\n")
    )
    message = error_of(tmp_path, coarse)
    assert message.startswith("9 (route.routes[0]): group_by ['session_id'] leaves out incident")
    ok = coarse.replace("group_by: [session_id, rule_family]", "group_by: [session_id]")
    (tmp_path / "ok.yml").write_text(ok)
    assert load_config(tmp_path / "ok.yml").incident_by == ("session_id",)
    everything = BASE + "  group_by: ['...']\n"
    (tmp_path / "all.yml").write_text(everything)
    assert load_config(tmp_path / "all.yml").incident_by == ("...",)


def test_matchers_parse_as_alertmanager_parses_them():
    both = parse_matchers(['{severity="critical", environment!="dev,test"}'])
    assert [(m.name, m.op, m.value) for m in both] == [
        ("severity", "=", "critical"),
        ("environment", "!=", "dev,test"),  # the comma is inside quotes
    ]
    assert [str(m) for m in parse_matchers(["rule_id=~destr.*", "user!=bob"])] == [
        'rule_id=~"destr.*"',
        'user!="bob"',
    ]
    assert Matcher.parse(r'host="a \"quoted\" name"').value == 'a "quoted" name'
    with pytest.raises(ValueError, match="unescaped double quote"):
        Matcher.parse('severity=="critical"')  # Alertmanager's error for this typo
    anchored = Matcher.parse('severity=~"crit"')
    assert not anchored.matches({"severity": "critical"})
    assert Matcher.parse('environment=~""').matches({})  # a missing label is ""
    assert not Matcher.parse('environment=~""').matches({"environment": "production"})
    with pytest.raises(ValueError, match="bad regex"):
        Matcher.parse("rule_id=~(")


def test_silences_on_labels_that_exist_only(store):
    clock = ManualClock()
    with pytest.raises(ValueError, match="no alert has a label `team`"):
        add_silence(store, ['team="sec"'], parse_duration("1h"), comment="x", clock=clock)
    with pytest.raises(ValueError, match="did you mean `rule_id`"):
        add_silence(store, ["ruleid=x"], parse_duration("1h"), comment="x", clock=clock)
    with pytest.raises(ValueError, match="must not match the empty string"):
        add_silence(store, ['user=~".*"'], parse_duration("1h"), comment="x", clock=clock)
    ok = add_silence(store, ["rule_id=destructive-burst"], parse_duration("1h"), comment="x",
                     clock=clock)  # fmt: skip
    assert [str(m) for m in ok.matchers] == ['rule_id="destructive-burst"']
