"""Alerting with Alertmanager's semantics: group, wait, dedup, inhibit, silence, resolve;
delivery through an outbox to apprise targets and PagerDuty Events v2.

Modules: `config` (YAML routes/receivers), `labels`, `matchers`, `silences`, `engine`
(evaluate groups on a clock), `message` (the page body), `outbox` (retries, attempts),
`transport` (apprise), `pagerduty` (Events v2 client).
"""
