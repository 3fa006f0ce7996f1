"""Delivery: the outbox, apprise and PagerDuty transports, test pages."""
