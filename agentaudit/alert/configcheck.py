"""Strict checking of alerting.yml before anything is built from it.

Alertmanager loads its file with yaml.UnmarshalStrict: an unknown key is an error. Here too,
and more: Alertmanager's own keys that agentaudit does not implement (`match`, `source_match`,
`slack_configs`, ...) are rejected with the form to write instead, because ignoring them
silently turned routes into catch-alls with no targets (issue 20). Label names are checked
against the labels findings carry, so a matcher on a label that does not exist cannot mute or
route nothing without a word. Every error is one line: file:line (where): what; hint.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from agentaudit.alert.labels import DEFAULT_GROUP_BY, LABEL_NAMES
from agentaudit.alert.matchers import Matcher, parse_matchers
from agentaudit.alert.yamlfile import ConfigError

TOP_KEYS = (
    "global",
    "apprise",
    "receivers",
    "route",
    "inhibit_rules",
    "rule_families",
    "incident_by",
)
GLOBAL_KEYS = ("resolve_timeout", "delivery")
DELIVERY_KEYS = ("timeout", "backoff_base", "backoff_max", "max_attempts", "expire_after")
APPRISE_KEYS = ("url", "tags", "tag")
RECEIVER_KEYS = (
    "name",
    "apprise_urls",
    "apprise_tags",
    "pagerduty",
    "alertmanager",
    "send_resolved",
)
PAGERDUTY_KEYS = ("routing_key", "routing_key_env", "url", "source", "timeout")
FORWARD_KEYS = ("url", "timeout")
ROUTE_KEYS = (
    "name",
    "receiver",
    "matchers",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "continue",
    "routes",
    "flush_on_escalation",
)
INHIBIT_KEYS = ("source_matchers", "target_matchers", "equal")

RECEIVERS_HINT = (
    "receivers here take `apprise_urls`, `apprise_tags`, `pagerduty` or `alertmanager`; "
    "see README, Alerting"
)
_RECEIVER_HINTS = {
    "pagerduty_configs": "write `pagerduty: {routing_key_env: PD_ROUTING_KEY}` (Events API v2)",
    "slack_configs": 'write `apprise_urls: ["slack://TokenA/TokenB/TokenC/#channel"]`',
    "email_configs": 'write `apprise_urls: ["mailtos://user:password@smtp.example.com"]`',
    "webhook_configs": 'write `apprise_urls: ["json://host:port/path"]`',
    "msteams_configs": 'write `apprise_urls: ["msteams://..."]`',
    "opsgenie_configs": 'write `apprise_urls: ["opsgenie://apikey"]`',
    "telegram_configs": 'write `apprise_urls: ["tgram://bottoken/chat_id"]`',
}
_UNSUPPORTED = {
    "templates": "messages are built by agentaudit (README, Alerting); there are no templates",
    "time_intervals": "time intervals are not supported; mute with `agentaudit silence add`",
    "mute_time_intervals": "time intervals are not supported; mute with `agentaudit silence add`",
    "active_time_intervals": "time intervals are not supported; mute with `agentaudit silence add`",
}
_DURATION = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)


class Checker:
    """Walks the parsed YAML (LineDict/LineList when read from a file) and raises ConfigError."""

    def __init__(self, source: str = "", labels: tuple[str, ...] = LABEL_NAMES) -> None:
        self.source = source
        self.labels = labels

    def fail(self, message: str, where: str, container: Any = None, key: Any = None):
        raise ConfigError(message, source=self.source, line=_line(container, key), where=where)

    # -- the document ----------------------------------------------------------------------
    def check(self, data: Any) -> None:
        if data is None:
            self.fail("the file is empty; it needs at least `route:` and `receivers:`", "")
        if not isinstance(data, dict):
            self.fail("the top level must be a mapping (route:, receivers:, ...)", "", data)
        self.keys(data, TOP_KEYS, "top level", extra_hints=_UNSUPPORTED)
        if "global" in data:
            self.global_(data["global"], data)
        shared_tags = self.apprise(data.get("apprise"), data)
        receivers = self.receivers(data.get("receivers"), data, shared_tags)
        if "route" not in data or data["route"] is None:
            self.fail("no `route:`; write `route: {receiver: NAME}`", "top level", data)
        self.route(data["route"], "route", data, "route", receivers, root=True)
        for i, rule in enumerate(self.list_of(data, "inhibit_rules", "top level")):
            self.inhibit_rule(rule, f"inhibit_rules[{i}]", data["inhibit_rules"], i)
        families = data.get("rule_families")
        if families is not None and (
            not isinstance(families, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in families.items())
        ):
            self.fail(
                "`rule_families` maps rule ids to family names", "top level", data, "rule_families"
            )
        if "incident_by" in data:
            self.group_by(data["incident_by"], "incident_by", data, "incident_by")
        self.incident_labels_in_every_group(data)

    def keys(self, mapping: Any, allowed: tuple[str, ...], where: str, *, extra_hints=None):
        if not isinstance(mapping, dict):
            self.fail(f"expected a mapping with keys {', '.join(allowed)}", where, mapping)
        for key in mapping:
            if key in allowed:
                continue
            hint = (extra_hints or {}).get(key) or _legacy_hint(key, mapping[key], where)
            if not hint:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}`?" if close else f"known: {', '.join(allowed)}"
            self.fail(f"unknown key `{key}`; {hint}", where, mapping, key)

    def list_of(self, parent: dict, key: str, where: str) -> list:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"`{key}` must be a list", where, parent, key)
        return value

    # -- sections --------------------------------------------------------------------------
    def global_(self, glob: Any, data: dict) -> None:
        hints = {k: "global here takes resolve_timeout and delivery" for k in _AM_GLOBALS}
        self.keys(glob, GLOBAL_KEYS, "global", extra_hints=hints)
        if "resolve_timeout" in glob:
            self.duration(glob, "resolve_timeout", "global")
        delivery = glob.get("delivery")
        if delivery is not None:
            self.keys(delivery, DELIVERY_KEYS, "global.delivery")
            for key in ("timeout", "backoff_base", "backoff_max", "expire_after"):
                if key in delivery:
                    self.duration(delivery, key, "global.delivery", nonzero=True)
            attempts = delivery.get("max_attempts", 1)
            if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
                self.fail(
                    "`max_attempts` must be a whole number >= 1",
                    "global.delivery",
                    delivery,
                    "max_attempts",
                )

    def apprise(self, items: Any, data: dict) -> set[frozenset[str]]:
        tags: set[frozenset[str]] = set()
        for i, item in enumerate(self.list_of(data, "apprise", "top level")):
            where = f"apprise[{i}]"
            if isinstance(item, str):
                continue
            self.keys(item, APPRISE_KEYS, where)
            if not isinstance(item.get("url"), str) or "://" not in item["url"]:
                self.fail("needs `url:` (an apprise URL such as json://host/path)", where, item)
            raw = item.get("tags", item.get("tag")) or []
            names = [t.strip() for t in raw.split(",")] if isinstance(raw, str) else raw
            if not all(isinstance(t, str) for t in names):
                self.fail("`tags` must be a list of names", where, item, "tags")
            tags.add(frozenset(names))
        return tags

    def receivers(self, items: Any, data: dict, shared_tags: set[frozenset[str]]) -> set[str]:
        names: set[str] = set()
        for i, item in enumerate(self.list_of(data, "receivers", "top level")):
            where = f"receivers[{i}]"
            hints = {k: f"{h}; {RECEIVERS_HINT}" for k, h in _RECEIVER_HINTS.items()}
            if isinstance(item, dict):
                for key in item:
                    if str(key).endswith("_configs") and key not in hints:
                        hints[key] = RECEIVERS_HINT
            self.keys(item, RECEIVER_KEYS, where, extra_hints=hints)
            name = item.get("name")
            if not isinstance(name, str) or not name:
                self.fail("a receiver needs a `name:`", where, item)
            if name in names:
                self.fail(f"receiver `{name}` is defined twice", where, item, "name")
            names.add(name)
            where = f"receiver {name}"
            for url in self.list_of(item, "apprise_urls", where):
                if not isinstance(url, str) or "://" not in url:
                    self.fail(f"not an apprise URL: {url!r}", where, item, "apprise_urls")
            wanted = item.get("apprise_tags") or []
            for tag in [wanted] if isinstance(wanted, str) else wanted:
                need = {t.strip() for t in str(tag).split(",")}
                if not any(need <= have for have in shared_tags):
                    self.fail(
                        f"apprise_tags `{tag}` selects no URL of `apprise:` (its tags: "
                        f"{sorted({t for s in shared_tags for t in s}) or 'none'})",
                        where,
                        item,
                        "apprise_tags",
                    )
            for pd in _one_or_many(item.get("pagerduty")):
                self.keys(pd, PAGERDUTY_KEYS, f"{where}.pagerduty")
                if not (pd.get("routing_key") or pd.get("routing_key_env")):
                    self.fail("pagerduty needs `routing_key_env:` (or `routing_key:`)", where, pd)
                if "timeout" in pd:
                    self.duration(pd, "timeout", f"{where}.pagerduty", nonzero=True)
            for am in _one_or_many(item.get("alertmanager")):
                self.keys(am, FORWARD_KEYS, f"{where}.alertmanager")
                url = am.get("url")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    self.fail(
                        "alertmanager needs `url:` http(s)://host:9093 (its API base)", where, am
                    )
                if "timeout" in am:
                    self.duration(am, "timeout", f"{where}.alertmanager", nonzero=True)
            if "send_resolved" in item and not isinstance(item["send_resolved"], bool):
                self.fail("`send_resolved` is true or false", where, item, "send_resolved")
        return names

    def route(
        self, route: Any, where: str, parent: Any, key: Any, receivers: set[str], *, root=False
    ):
        if not isinstance(route, dict):
            self.fail("a route is a mapping (receiver:, matchers:, ...)", where, parent, key)
        self.keys(route, ROUTE_KEYS, where, extra_hints=_UNSUPPORTED)
        receiver = route.get("receiver")
        if root and not receiver:
            self.fail("the root route needs a default `receiver:`", where, route)
        if receiver is not None and receiver not in receivers:
            known = ", ".join(sorted(receivers)) or "none defined"
            self.fail(
                f"unknown receiver `{receiver}` (receivers: {known})", where, route, "receiver"
            )
        if root and route.get("matchers"):
            self.fail(
                "the root route matches every alert: it cannot have `matchers`",
                where,
                route,
                "matchers",
            )
        if root and route.get("continue"):
            self.fail("the root route cannot have `continue`", where, route, "continue")
        if "matchers" in route:
            self.matchers(route, "matchers", where)
        if "group_by" in route:
            self.group_by(route["group_by"], where, route, "group_by")
        for name in ("group_wait", "group_interval", "repeat_interval"):
            if name in route:
                self.duration(route, name, where, nonzero=name != "group_wait")
        for flag in ("continue", "flush_on_escalation"):
            if flag in route and not isinstance(route[flag], bool):
                self.fail(f"`{flag}` is true or false", where, route, flag)
        for i, child in enumerate(self.list_of(route, "routes", where)):
            name = child.get("name") if isinstance(child, dict) else None
            self.route(
                child,
                f"{where}.routes[{i}]" + (f" {name}" if name else ""),
                route["routes"],
                i,
                receivers,
            )

    def inhibit_rule(self, rule: Any, where: str, parent: Any, index: int) -> None:
        self.keys(rule, INHIBIT_KEYS, where)
        if not rule.get("source_matchers") or not rule.get("target_matchers"):
            self.fail(
                "an inhibit rule needs `source_matchers:` and `target_matchers:`", where, rule
            )
        self.matchers(rule, "source_matchers", where)
        self.matchers(rule, "target_matchers", where)
        if "equal" in rule:
            equal = rule["equal"]
            if not isinstance(equal, list) or not all(isinstance(e, str) for e in equal):
                self.fail("`equal` is a list of label names", where, rule, "equal")
            self.label_names(equal, where, rule, "equal")

    # -- values ----------------------------------------------------------------------------
    def matchers(self, mapping: dict, key: str, where: str) -> tuple[Matcher, ...]:
        items = mapping[key]
        if isinstance(items, str) or not isinstance(items, list):
            self.fail(f"`{key}` is a list, e.g. {key}: [severity=critical]", where, mapping, key)
        try:
            parsed = parse_matchers([str(i) for i in items])
        except ValueError as exc:
            self.fail(str(exc), where, mapping, key)
        self.label_names([m.name for m in parsed], where, mapping, key)
        return parsed

    def group_by(self, value: Any, where: str, mapping: dict, key: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"`{key}` is a list of label names", where, mapping, key)
        if "..." in value and len(value) > 1:
            self.fail(
                f"`...` (every label) cannot be combined with other labels in `{key}`",
                where,
                mapping,
                key,
            )
        if len(set(value)) != len(value):
            self.fail(f"a label appears twice in `{key}`", where, mapping, key)
        self.label_names([v for v in value if v != "..."], where, mapping, key)

    def label_names(self, names: list[str], where: str, mapping: Any, key: Any) -> None:
        for name in names:
            if name not in self.labels:
                close = difflib.get_close_matches(name, self.labels, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}`? " if close else ""
                self.fail(
                    f"no alert has a label `{name}`; {hint}labels: {', '.join(self.labels)}",
                    where,
                    mapping,
                    key,
                )

    def duration(self, mapping: dict, key: str, where: str, *, nonzero: bool = False) -> None:
        value = mapping[key]
        text = (
            value if isinstance(value, str) else ("0" if value == 0 and value is not False else "")
        )
        found = _DURATION.fullmatch(text)
        if not text or not (text == "0" or found):
            self.fail(
                f"`{key}: {value}` is not a duration; write e.g. 30s, 5m, 4h, 1h30m, 500ms "
                "(Alertmanager's form: whole numbers with a unit)",
                where,
                mapping,
                key,
            )
        if nonzero and (found is None or not any(int(g) for g in found.groups() if g)):
            self.fail(f"`{key}` cannot be zero", where, mapping, key)

    def incident_labels_in_every_group(self, data: dict) -> None:
        """A page never mixes incidents: every route's group_by holds the incident labels."""
        root = data["route"]
        default = root.get("group_by", list(DEFAULT_GROUP_BY))
        incident = data.get("incident_by", default)

        def walk(route: dict, inherited: list[str], where: str, parent: Any, key: Any) -> None:
            group_by = route.get("group_by") or inherited  # (`[]` inherits, as in Alertmanager)
            if "..." not in group_by and ("..." in incident or not set(incident) <= set(group_by)):
                self.fail(
                    f"group_by {group_by} leaves out incident labels {incident}: one page "
                    "would mix incidents; add them, or set `incident_by:` to fewer labels",
                    where,
                    parent,
                    key,
                )
            for i, child in enumerate(route.get("routes") or []):
                walk(child, group_by, f"{where}.routes[{i}]", route["routes"], i)

        walk(root, default, "route", data, "route")


_AM_GLOBALS = (
    "smtp_from",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "slack_api_url",
    "pagerduty_url",
    "opsgenie_api_url",
    "http_config",
    "victorops_api_url",
    "wechat_api_url",
    "telegram_api_url",
    "webex_api_url",
)


def _legacy_hint(key: Any, value: Any, where: str) -> str:
    """The form to write for one of Alertmanager's deprecated matcher keys."""
    forms: dict[str, tuple[str, str]] = {
        "match": ("matchers", "="),
        "match_re": ("matchers", "=~"),
        "source_match": ("source_matchers", "="),
        "source_match_re": ("source_matchers", "=~"),
        "target_match": ("target_matchers", "="),
        "target_match_re": ("target_matchers", "=~"),
    }
    if key not in forms:
        return ""
    new_key, op = forms[key]
    if isinstance(value, dict) and value:
        items = ", ".join(
            f'{k}{op}"{v}"' if op == "=~" else f"{k}{op}{v}" for k, v in value.items()
        )
    else:
        items = f"severity{op}critical"
    return f"`{key}` is Alertmanager's deprecated form; write `{new_key}: [{items}]`"


def _one_or_many(value: Any) -> list[Any]:
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _line(container: Any, key: Any) -> int | None:
    lines = getattr(container, "lines", None)
    if lines is not None and key is not None:
        try:
            return lines[key]
        except (KeyError, IndexError, TypeError):
            pass
    return getattr(container, "line", None)


def check_config(data: Any, source: str = "", labels: tuple[str, ...] = LABEL_NAMES) -> None:
    Checker(source, labels).check(data)


def check_label_names(names: list[str], what: str, labels: tuple[str, ...] = LABEL_NAMES) -> None:
    """For silences: a matcher on a label no alert has would match nothing."""
    for name in names:
        if name not in labels:
            close = difflib.get_close_matches(name, labels, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise ValueError(
                f"{what}: no alert has a label `{name}`; {hint}labels: {', '.join(labels)}"
            )
