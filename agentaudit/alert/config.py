"""The alerting config (YAML): routes, receivers, inhibition, grouping and delivery timing.

The shape follows Alertmanager's (`route` tree with `matchers`, `group_by`, `group_wait`,
`group_interval`, `repeat_interval`, `continue`; `receivers`; `inhibit_rules`) so on-call
teams can read it without a manual; `configcheck` rejects anything else with file:line and a
hint. Receivers take apprise URLs, PagerDuty (Events v2) and `alertmanager` (forward to a
team's own Alertmanager). Secrets (PagerDuty routing keys, apprise URLs with tokens) live only
here or in the environment, never in the store: the outbox keeps a target id.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.alert.configcheck import check_config
from agentaudit.alert.labels import DEFAULT_GROUP_BY
from agentaudit.alert.matchers import Labels, Matcher, all_match, parse_matchers, sort_key
from agentaudit.alert.yamlfile import ConfigError, load_yaml
from agentaudit.schema import stable_id

CONFIG_ENV = "AGENTAUDIT_ALERTING"
CONFIG_FILENAME = "alerting.yml"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
__all__ = ["ConfigError"]  # re-exported: callers catch config errors from here

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
DEFAULT_MAX_ATTEMPTS = 200
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """`30s`, `5m`, `4h`, `1h30m`, `2d` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 4h, 1h30m)")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


@dataclass(frozen=True, slots=True)
class AppriseTarget:
    url: str
    tags: tuple[str, ...] = ()

    @property
    def target_id(self) -> str:
        """Stable id of the URL; the URL itself (tokens) never reaches the store."""
        return "apprise:" + stable_id("apprise-target", self.url)[:16]


@dataclass(frozen=True, slots=True)
class PagerDutyTarget:
    routing_key: str
    url: str = PAGERDUTY_EVENTS_URL
    source: str = "agentaudit"
    timeout: float = 10.0

    @property
    def target_id(self) -> str:
        return "pagerduty:" + stable_id("pagerduty-target", self.routing_key, self.url)[:16]


@dataclass(frozen=True, slots=True)
class AlertmanagerTarget:
    """A team's own Alertmanager: alerts are forwarded to its /api/v2/alerts."""

    url: str
    timeout: float = 10.0

    @property
    def target_id(self) -> str:
        return "alertmanager:" + stable_id("alertmanager-target", self.url)[:16]


Target = AppriseTarget | PagerDutyTarget | AlertmanagerTarget


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    apprise: tuple[AppriseTarget, ...] = ()
    pagerduty: tuple[PagerDutyTarget, ...] = ()
    alertmanager: tuple[AlertmanagerTarget, ...] = ()
    send_resolved: bool = True

    def targets(self) -> list[Target]:
        return [*self.apprise, *self.pagerduty, *self.alertmanager]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    group_wait: timedelta = timedelta(seconds=30)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=4)
    continue_: bool = False
    routes: tuple[Route, ...] = ()
    key: str = "{}"  # Alertmanager's route key: the matchers of each route from the root
    flush_on_escalation: bool = False  # agentaudit's option: a rise in severity is sent at once

    def match(self, labels: Labels) -> list[Route]:
        """Alertmanager's tree walk: the deepest matching routes; first match wins unless
        `continue`; a route whose children all miss handles the alert itself."""
        if not all_match(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found += hits
            if hits and not child.continue_:
                break
        return found or [self]

    def walk(self) -> list[Route]:
        return [self, *(r for child in self.routes for r in child.walk())]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    timeout: timedelta = timedelta(seconds=5)
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_max: timedelta = timedelta(minutes=10)
    # a page is retried until delivered or expired (whichever limit comes first); an expired
    # page is reported loudly and stays visible in `alert outbox`
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    expire_after: timedelta = timedelta(hours=24)


DEFAULT_INHIBIT = InhibitRule(
    source_matchers=parse_matchers(["severity=critical"]),
    target_matchers=parse_matchers(["severity=~high|medium|low|info"]),
    equal=("session_id", "rule_family"),
)


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    route: Route
    receivers: dict[str, Receiver] = field(default_factory=dict)
    inhibit_rules: tuple[InhibitRule, ...] = (DEFAULT_INHIBIT,)
    resolve_timeout: timedelta = timedelta(minutes=30)
    delivery: DeliveryPolicy = DeliveryPolicy()
    rule_families: dict[str, str] = field(default_factory=dict)
    incident_by: tuple[str, ...] = DEFAULT_GROUP_BY  # the labels that name an incident

    def routes(self) -> dict[str, Route]:
        return {r.name: r for r in self.route.walk()}

    def receiver(self, name: str) -> Receiver:
        return self.receivers.get(name) or Receiver(name)


def from_urls(urls: list[str], *, group_wait: str | float = 0) -> AlertingConfig:
    """The config of `--notify URL` runs: one route to those apprise URLs.

    One-shot runs have no later tick to wait for, so group_wait defaults to 0 here. With no
    alerting.yml there is no group_interval anyone chose: a rise in severity (a high page,
    then the critical call) is sent at once, as the README's own alerting.yml does.
    """
    receiver = Receiver("default", apprise=tuple(AppriseTarget(u) for u in urls))
    route = Route(
        "default", "default", group_wait=parse_duration(group_wait), flush_on_escalation=True
    )
    return AlertingConfig(route=route, receivers={"default": receiver})


def default_config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else paths.home() / CONFIG_FILENAME


def load_config(path: str | Path | None = None) -> AlertingConfig | None:
    """The YAML config at `path` (or $AGENTAUDIT_ALERTING, or the data dir); None if absent.
    Any problem in it is one ConfigError naming file:line."""
    config_path = Path(path) if path else default_config_path()
    if not config_path.exists():
        if path:
            raise FileNotFoundError(f"no alerting config at {config_path}")
        return None
    return parse_config(load_yaml(config_path), source=str(config_path))


def parse_config(data: dict[str, Any], source: str = "") -> AlertingConfig:
    """Check `data` strictly (ConfigError on any problem), then build the config."""
    check_config(data, source)
    shared = [_apprise_target(item) for item in data.get("apprise") or []]
    receivers = {}
    for item in data.get("receivers") or []:
        try:
            receiver = _receiver(item, shared)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, line=getattr(item, "line", None)) from None
        receivers[receiver.name] = receiver
    route = _route(data["route"], parent=None, index=0)
    glob = data.get("global") or {}
    delivery = glob.get("delivery") or {}
    inhibit = data.get("inhibit_rules")
    return AlertingConfig(
        route=route,
        receivers=receivers,
        inhibit_rules=(DEFAULT_INHIBIT,)
        if inhibit is None
        else tuple(
            InhibitRule(
                parse_matchers(rule.get("source_matchers")),
                parse_matchers(rule.get("target_matchers")),
                tuple(rule.get("equal") or ()),
            )
            for rule in inhibit
        ),
        resolve_timeout=parse_duration(glob.get("resolve_timeout", "30m")),
        delivery=DeliveryPolicy(
            timeout=parse_duration(delivery.get("timeout", "5s")),
            backoff_base=parse_duration(delivery.get("backoff_base", "5s")),
            backoff_max=parse_duration(delivery.get("backoff_max", "10m")),
            max_attempts=int(delivery.get("max_attempts", DEFAULT_MAX_ATTEMPTS)),
            expire_after=parse_duration(delivery.get("expire_after", "24h")),
        ),
        rule_families={str(k): str(v) for k, v in (data.get("rule_families") or {}).items()},
        incident_by=tuple(data.get("incident_by", route.group_by)),
    )


def _apprise_target(item: str | dict[str, Any]) -> AppriseTarget:
    if isinstance(item, str):
        return AppriseTarget(item)
    tags = item.get("tags") or item.get("tag") or ()
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return AppriseTarget(str(item["url"]), tuple(tags))


def _receiver(item: dict[str, Any], shared: list[AppriseTarget]) -> Receiver:
    inline = [_apprise_target(u) for u in item.get("apprise_urls") or []]
    tags = item.get("apprise_tags") or []
    if isinstance(tags, str):
        tags = [tags]
    # apprise tag semantics: a list is OR; "a, b" inside one entry is AND
    wanted = [{t.strip() for t in str(tag).split(",")} for tag in tags]
    selected = [t for t in shared if any(w <= set(t.tags) for w in wanted)]
    pagerduty = []
    for pd in _as_list(item.get("pagerduty")):
        key = pd.get("routing_key") or os.environ.get(pd.get("routing_key_env") or "", "")
        if not key:
            raise ValueError(
                f"receiver {item['name']!r}: pagerduty needs routing_key or a set routing_key_env"
                f" (${pd.get('routing_key_env')} is not set)"
            )
        pagerduty.append(
            PagerDutyTarget(
                routing_key=str(key),
                url=str(pd.get("url") or PAGERDUTY_EVENTS_URL),
                source=str(pd.get("source") or "agentaudit"),
                timeout=parse_duration(pd.get("timeout", "10s")).total_seconds(),
            )
        )
    forward = tuple(
        AlertmanagerTarget(
            str(am["url"]).rstrip("/"), parse_duration(am.get("timeout", "10s")).total_seconds()
        )
        for am in _as_list(item.get("alertmanager"))
    )
    apprise_targets = tuple(dict.fromkeys([*inline, *selected]))
    # Alertmanager's defaults: resolved messages for webhooks and pagers, not for email/Slack
    quiet_by_default = (
        bool(apprise_targets)
        and not pagerduty
        and not forward
        and all(t.url.split("://", 1)[0] in _NO_RESOLVED_SCHEMES for t in apprise_targets)
    )
    return Receiver(
        name=str(item["name"]),
        apprise=apprise_targets,
        pagerduty=tuple(pagerduty),
        alertmanager=forward,
        send_resolved=bool(item.get("send_resolved", not quiet_by_default)),
    )


_NO_RESOLVED_SCHEMES = {"mailto", "mailtos", "slack", "wecombot"}


def _as_list(value: Any) -> list[dict[str, Any]]:
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _route(item: dict[str, Any], parent: Route | None, index: int) -> Route:
    def inherit(key: str, default: Any) -> Any:
        value = item.get(key)
        return default if value in (None, []) else value  # `[]` inherits, as in Alertmanager

    name = item.get("name") or ("default" if parent is None else f"{parent.name}.{index}")
    base = parent or Route("default", "default")
    matchers = parse_matchers(item.get("matchers"))
    in_key = "{" + ",".join(str(m) for m in sorted(matchers, key=sort_key)) + "}"
    route = Route(
        name=str(name),
        receiver=str(inherit("receiver", base.receiver)),
        matchers=matchers,
        # at the root, an explicit `group_by: []` is Alertmanager's default: no grouping
        group_by=tuple(
            item["group_by"]
            if parent is None and "group_by" in item
            else inherit("group_by", base.group_by)
        ),
        group_wait=parse_duration(inherit("group_wait", base.group_wait)),
        group_interval=parse_duration(inherit("group_interval", base.group_interval)),
        repeat_interval=parse_duration(inherit("repeat_interval", base.repeat_interval)),
        continue_=bool(item.get("continue", False)),
        key=in_key if parent is None else f"{parent.key}/{in_key}",
        flush_on_escalation=bool(inherit("flush_on_escalation", base.flush_on_escalation)),
    )
    children = tuple(
        _route(child, route, i) for i, child in enumerate(item.get("routes") or [], start=1)
    )
    return Route(**{**_fields(route), "routes": children})


def _fields(route: Route) -> dict[str, Any]:
    return {name: getattr(route, name) for name in Route.__slots__}
