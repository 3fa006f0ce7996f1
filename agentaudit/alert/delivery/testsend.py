"""`agentaudit alert test --route NAME`: one test notification through a route's receiver."""

from __future__ import annotations

from typing import Any

from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.config import AlertingConfig, PagerDutyTarget
from agentaudit.alert.delivery.outbox import describe
from agentaudit.alert.delivery.pagerduty import send_event
from agentaudit.alert.delivery.transport import send_apprise
from agentaudit.schema import stable_id
from agentaudit.store import Store

TEST_TITLE = "[TEST] agentaudit test notification"


def send_test(
    store: Store, config: AlertingConfig, route_name: str, clock: Clock | None = None
) -> list[dict[str, Any]]:
    """Send straight away (not through the outbox) and record each attempt in `deliveries`."""
    routes = config.routes()
    if route_name not in routes:
        raise KeyError(f"no route {route_name!r}; routes: {', '.join(routes)}")
    route = routes[route_name]
    receiver = config.receiver(route.receiver)
    if not receiver.targets():
        raise ValueError(f"route {route_name!r} -> receiver {receiver.name!r} has no targets")
    clock = clock or SystemClock()
    timeout = config.delivery.timeout.total_seconds()
    body = (
        f"This is a test of route {route_name!r} -> receiver {receiver.name!r}.\n"
        "If you can read it, agentaudit can page you here. No action needed."
    )
    results = []
    for target in receiver.targets():
        if isinstance(target, PagerDutyTarget):
            dedup = f"agentaudit-test-{stable_id(route_name)[:12]}"
            event = {
                "event_action": "trigger",
                "dedup_key": dedup,
                "payload": {
                    "summary": TEST_TITLE,
                    "source": target.source,
                    "severity": "info",
                    "timestamp": clock.now().isoformat(timespec="milliseconds"),
                },
            }
            outcomes = [("trigger", send_event(target, event, timeout))]
            if outcomes[0][1].ok:  # close the test incident again
                resolve = {"event_action": "resolve", "dedup_key": dedup}
                outcomes.append(("resolve", send_event(target, resolve, timeout)))
        else:
            outcomes = [("test", send_apprise(target.url, TEST_TITLE, body, "info", timeout))]
        for action, outcome in outcomes:
            row = {
                "delivery_id": stable_id("test", route_name, target.target_id, action, clock.now()),
                "alert_id": f"test:{route_name}",
                "target": describe(target),
                "attempt": 1,
                "ok": outcome.ok,
                "detail": outcome.detail,
                "attempted_at": clock.now(),
                "outbox_id": None,
                "receiver": receiver.name,
                "action": action,
                "status_code": outcome.status_code,
                "retryable": outcome.retryable,
            }
            store.con.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(row.values()),
            )
            results.append(row)
    return results
