"""Alerting: findings grouped into one alert per incident, delivered through apprise."""

from agentaudit.alert.grouping import build_alerts
from agentaudit.alert.notify import deliver_pending

__all__ = ["build_alerts", "deliver_pending"]
