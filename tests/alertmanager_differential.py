"""The same alert sequences through the real Alertmanager and through agentaudit's engine.

`generate(seed)` makes one sequence: a route tree (group_by, matchers in Alertmanager's forms,
`continue`), inhibit rules, receivers (some without send_resolved) and 3-5 steps that post
alerts (findings, on agentaudit's side), add silences and expire them. Alerts resolve by
resolve_timeout. `run_alertmanager` plays it against a real Alertmanager (the harness) on the
wall clock and records when each step actually happened; `replay_agentaudit` feeds the same
steps at those same times to agentaudit's engine with a ManualClock, evaluating at every
moment the engine says something is due. Both give the notifications per receiver and group
key (`alertmanager_harness.summarize`) and, after each step, which alerts are silenced or
inhibited.

Timing (SEMANTICS.md, "Timers"): steps every 1.6 s; group_wait 0.4 s, group_interval 0.8 s,
so every group ticks 0.4 s from a step; resolve_timeout 2.4 s, so alerts resolve half-way
between ticks and steps. Every event is 0.4 s from the nearest tick: Alertmanager's timer
jitter (milliseconds) cannot move one across a tick.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from agentaudit.alert.clock import ManualClock
from agentaudit.alert.config import parse_config
from agentaudit.alert.engine import evaluate, next_wakeup
from agentaudit.alert.labels import finding_labels, label_value, open_finding_events
from agentaudit.alert.silences import add_silence, expire_silence
from agentaudit.alert.suppression import labels_from_json
from agentaudit.schema import stable_id
from agentaudit.store import Store
from agentaudit.testing import at, event
from tests.alertmanager_harness import Alertmanager, summarize

GROUP_WAIT, GROUP_INTERVAL, RESOLVE = 0.4, 0.8, 2.4
STEP = 2 * GROUP_INTERVAL
FIRST_STEP = 0.2
QUERY_AT = 1.3  # into a step: after its ticks (0.4, 1.2) and resolutions (0.8)
TIMERS = {"group_wait": "400ms", "group_interval": "800ms", "repeat_interval": "1h"}

RULES = ("destructive-burst", "provider-delete", "secret-exfil", "scope-escape")
SEVERITIES = ("critical", "high", "medium", "low")
SESSIONS = ("s1", "s2", "s3")
GROUP_BYS = (
    ["session_id"],
    ["session_id", "rule_family"],
    ["session_id", "alertname"],
    ["..."],
    ["alertname"],
    ["severity"],
    ["rule_family", "environment"],
    [],
)
MATCHERS = (
    ['severity="critical"'],
    ['severity=~"critical|high"'],
    ["severity!=low"],
    ['rule_family="destruction"'],
    ['environment=~"prod.*"'],
    ['environment!="production"'],  # true for alerts without an environment
    ['environment=~""'],  # the missing label is the empty string
    ['session_id="s1"'],
    ['{severity=~"high|medium", rule_family!="destruction"}'],  # PromQL form, two matchers
    ['severity=~"crit"'],  # anchored: matches nothing
    ['alertname=~"provider-.*|secret-.*"', "session_id!=s3"],
)
INHIBIT_RULES = (
    (['severity="critical"'], ['severity=~"high|medium|low"'], ["session_id"]),
    (['severity="critical"'], ['severity=~"critical|high"'], ["session_id"]),  # two-sided
    (['rule_family="destruction"', 'severity="critical"'], ['rule_family!="destruction"'], []),
    (['severity="high"'], ['severity="low"'], ["session_id", "rule_family"]),
    (['environment="production"'], ['environment="staging"'], ["session_id", "agent"]),
    (['severity="critical"'], ['severity="medium"'], ["environment"]),  # missing == missing
)


@dataclass
class Step:
    post: list[dict[str, str]] = field(default_factory=list)  # alert labels
    silence: list[str] | None = None
    expire: int | None = None  # index of a silence added earlier


@dataclass
class Sequence:
    seed: int
    route: dict[str, Any]
    inhibit_rules: list[dict[str, Any]]
    send_resolved: dict[str, bool]
    incident_by: list[str]
    steps: list[Step]

    def end(self) -> float:
        last = FIRST_STEP + (len(self.steps) - 1) * STEP
        return last + RESOLVE + 2 * GROUP_INTERVAL  # every alert resolved and flushed

    def alertmanager_config(self) -> dict[str, Any]:
        return {
            "global": {"resolve_timeout": "2400ms"},
            "route": self.route,
            "inhibit_rules": self.inhibit_rules,
            "receivers": [{"name": name} for name in self.send_resolved],
        }

    def agentaudit_config(self) -> dict[str, Any]:
        # targets that are never contacted here: the engine's notifications are compared
        receivers = [
            {"name": name, "alertmanager": {"url": "http://127.0.0.1:9"}, "send_resolved": sr}
            for name, sr in self.send_resolved.items()
        ]
        return {
            **self.alertmanager_config(),
            "receivers": receivers,
            "incident_by": self.incident_by,
        }


def alert_labels(rng: random.Random) -> dict[str, str]:
    rule = rng.choice(RULES)
    destructive = rng.random() < 0.6
    labels = {
        "alertname": rule,
        "rule_id": rule,
        "rule_family": "destruction" if destructive else rule,
        "severity": rng.choice(SEVERITIES),
        "kind": "rule",
        "session_id": rng.choice(SESSIONS),
        "agent": rng.choice(("cursor", "claude-code")),
        "user": rng.choice(("alice", "bob")),
        "host": "h1",
        "source": "cursor.hooks",
    }
    if destructive:
        labels["environment"] = rng.choice(("production", "staging"))
    return labels


def generate(seed: int) -> Sequence:
    """One sequence; seeds cycle through the features so that any 4 in a row cover them."""
    rng = random.Random(seed)
    group_by = rng.choice(GROUP_BYS)
    # (`group_by: []` at the root: no grouping, Alertmanager's default; agentaudit's default
    # when the key is absent is [session_id, rule_family])
    route: dict[str, Any] = {"receiver": "r0", "group_by": group_by, **TIMERS}
    children = []
    for i in range(rng.randint(1, 3) if seed % 4 != 3 else 0):
        child: dict[str, Any] = {"receiver": f"r{i + 1}", "matchers": list(rng.choice(MATCHERS))}
        if seed % 2 == 1 or rng.random() < 0.4:
            child["continue"] = True
        if rng.random() < 0.3:
            child["group_by"] = rng.choice([g for g in GROUP_BYS if g])
        if rng.random() < 0.2:
            child["routes"] = [{"receiver": "r0", "matchers": list(rng.choice(MATCHERS))}]
        children.append(child)
    if children:
        route["routes"] = children
    rules = []
    if seed % 4 in (0, 1) or rng.random() < 0.3:
        picks = rng.sample(range(len(INHIBIT_RULES)), rng.randint(1, 2))
        if seed % 4 == 0 and 1 not in picks:
            picks[0] = 1  # the two-sided rule, in every fourth sequence
        for i in picks:
            source, target, equal = INHIBIT_RULES[i]
            rule = {"source_matchers": source, "target_matchers": target}
            if equal:
                rule["equal"] = equal
            rules.append(rule)
    receivers = {f"r{i}": rng.random() > 0.35 for i in range(4)}  # some without send_resolved
    pool = [alert_labels(rng) for _ in range(rng.randint(3, 6))]
    if rules:  # a source for the rules to act on
        pool[0]["severity"] = "critical"
    staggered = seed % 4 == 3  # one group; an alert resolves while another still fires
    if staggered:
        route["group_by"] = rng.choice(([], ["session_id"]))
        pool[1]["session_id"] = pool[0]["session_id"]
        receivers["r0"] = seed % 8 == 3
    steps = []
    silences = 0
    for k in range(rng.randint(3, 5)):
        step = Step()
        if staggered:
            step.post = [pool[0], pool[1]] if k == 0 else [pool[1], *rng.sample(pool[2:], 1)]
        elif k == 0 or rng.random() < 0.8:
            step.post = rng.sample(pool, min(len(pool), rng.randint(2 if k == 0 else 1, 3)))
        if not staggered and (seed % 3 != 2 or rng.random() < 0.2) and rng.random() < 0.35:
            target = rng.choice(pool)
            step.silence = rng.choice(
                (
                    [f'rule_id="{target["rule_id"]}"'],
                    [f'session_id="{target["session_id"]}"', 'severity=~"high|low"'],
                    [f"alertname={target['alertname']}", f"user={target['user']}"],
                )
            )
            silences += 1
        elif silences and rng.random() < 0.4:
            step.expire = rng.randrange(silences)
        steps.append(step)
    return Sequence(seed, route, rules, receivers, incident_labels(route), steps)


def incident_labels(route: dict[str, Any]) -> list[str]:
    """The labels every route groups by (agentaudit's incidents may not span two groups)."""
    found: list[set[str]] = []

    def walk(node: dict[str, Any], inherited: list[str]) -> None:
        group_by = node.get("group_by") or inherited
        if "..." not in group_by:
            found.append(set(group_by))
        for child in node.get("routes") or []:
            walk(child, group_by)

    walk(route, route.get("group_by") or [])
    common = set.intersection(*found) if found else set()
    return sorted(common)


# -- the real Alertmanager --------------------------------------------------------------------


@dataclass
class Played:
    timeline: list[tuple[float, str, Any]]  # (seconds since start, kind, payload)
    notes: list[dict[str, Any]]
    states: list[dict[tuple, tuple[bool, bool]]]  # after each step: labels -> (silenced, inhibited)
    end: float


def run_alertmanager(seq: Sequence) -> Played:
    am = Alertmanager(seq.alertmanager_config())
    for receiver in am.raw_config["receivers"]:
        if not seq.send_resolved[receiver["name"]]:
            url = am.sink.url(receiver["name"])
            receiver["webhook_configs"] = [{"url": url, "send_resolved": False}]
    am.start()
    timeline: list[tuple[float, str, Any]] = []
    states = []
    silence_ids: list[str] = []
    try:
        base = time.monotonic()

        def act(kind: str, payload: Any, call) -> Any:
            before = time.monotonic()
            result = call()
            timeline.append(((before + time.monotonic()) / 2 - base, kind, payload))
            return result

        for k, step in enumerate(seq.steps):
            _sleep_until(base + FIRST_STEP + k * STEP)
            if step.silence:
                matchers = step.silence
                silence_ids.append(act("silence", matchers, lambda m=matchers: am.add_silence(m)))
            if step.expire is not None:
                sid = silence_ids[step.expire]
                act("expire", step.expire, lambda s=sid: am.expire_silence(s))
            if step.post:
                alerts = [{"labels": labels} for labels in step.post]
                act("post", step.post, lambda a=alerts: am.post_alerts(a))
            _sleep_until(base + FIRST_STEP + k * STEP + QUERY_AT)
            states.append(act("query", k, lambda: _am_states(am.alerts())))
        _sleep_until(base + seq.end())
        notes = am.wait_quiet(0.2, timeout=2)
    finally:
        am.close()
    return Played(timeline, notes, states, seq.end())


def _am_states(alerts: list[dict[str, Any]]) -> dict[tuple, tuple[bool, bool]]:
    return {
        tuple(sorted(a["labels"].items())): (
            bool(a["status"]["silencedBy"]),
            bool(a["status"]["inhibitedBy"]),
        )
        for a in alerts
    }


def _sleep_until(deadline: float) -> None:
    left = deadline - time.monotonic()
    if left > 0:
        time.sleep(left)


# -- agentaudit's engine ----------------------------------------------------------------------

BASE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
_keys = count()


@dataclass
class Replayed:
    notes: list[dict[str, Any]]
    states: list[dict[tuple, tuple[bool, bool]]]
    evaluations: int


def replay_agentaudit(seq: Sequence, played: Played) -> Replayed:
    """Apply `played.timeline` at its times, evaluating at every group tick between (the
    moments anyone is told: an alert's end or a silence's is read at the next tick)."""
    cfg = parse_config(seq.agentaudit_config())
    clock = ManualClock(BASE)
    notes: list[dict[str, Any]] = []
    states = []
    silence_ids: list[str] = []
    evaluations = 0
    with Store.open(":memory:") as store:

        def tick() -> None:
            nonlocal evaluations
            evaluations += 1
            notes.extend(n.as_dict() for n in evaluate(store, cfg, clock).dispatched)

        def drain(until: datetime) -> None:
            for _ in range(1000):
                due = next_wakeup(store, clock.now(), ticks_only=True)
                if due is None or due > until:
                    return
                clock.set(max(due, clock.now()))
                tick()
            raise AssertionError("the engine kept asking to be woken up")

        pending = False  # actions applied since the last evaluation
        for i, (seconds, kind, payload) in enumerate(played.timeline):
            moment = BASE + timedelta(seconds=seconds)
            drain(moment)
            clock.set(moment)
            if kind == "post":
                for labels in payload:
                    post_finding(store, labels, seconds)
            elif kind == "silence":
                silence = add_silence(
                    store, payload, timedelta(hours=1), comment="differential", clock=clock
                )
                silence_ids.append(silence.silence_id)
            elif kind == "expire":
                expire_silence(store, silence_ids[payload], clock=clock)
            pending = pending or kind != "query"
            later = played.timeline[i + 1][0] if i + 1 < len(played.timeline) else played.end
            # one evaluation for a step's actions (milliseconds apart, no tick between)
            if pending and later - seconds > 0.1:
                tick()
                pending = False
            if kind == "query":
                wakeup = next_wakeup(store, clock.now())
                if wakeup is not None and wakeup <= moment:  # an end or a silence since
                    tick()
                states.append(engine_states(store))
        drain(BASE + timedelta(seconds=played.end))
    return Replayed(notes, states, evaluations)


def post_finding(store: Store, labels: dict[str, str], seconds: float) -> None:
    """A finding whose labels are `labels` (checked), resting on one stored event."""
    destructive = labels["rule_family"] == "destruction"
    columns = {"target_env": labels["environment"]} if "environment" in labels else {}
    command = "rm -rf /srv/data" if destructive else "ls -la"
    ev = event(
        seconds,
        source=labels["source"],
        session_id=labels["session_id"],
        command=command,
        operation=command.split()[0],
        target="/srv/data",
        agent=labels["agent"],
        actor=labels["user"],
        host=labels["host"],
        **columns,
    )
    store.append_events([ev])
    finding = {
        "finding_id": stable_id("differential", next(_keys)),
        "rule_id": labels["rule_id"],
        "title": f"{labels['rule_id']} fired",
        "severity": labels["severity"],
        "kind": labels["kind"],
        "first_seen": at(seconds),
        "last_seen": at(seconds),
        "event_ids": [ev["event_id"]],
        "session_id": labels["session_id"],
        "group_key": f"session:{labels['session_id']}",
        "status": "open",
        "evidence": "{}",
        "created_at": at(seconds),
    }
    store.append_findings([finding])
    events = open_finding_events(store, [finding["finding_id"]])[finding["finding_id"]]
    derived = {k: label_value(v) for k, v in finding_labels(finding, events, {}).items()}
    assert derived == labels, (derived, labels)


def engine_states(store: Store) -> dict[tuple, tuple[bool, bool]]:
    rows = store.rows(
        "SELECT labels, silenced_by, inhibited_by FROM alert_members WHERE state <> 'resolved'"
    )
    return {
        tuple(sorted((k, label_value(v)) for k, v in labels_from_json(r["labels"]).items())): (
            bool(r["silenced_by"]),
            bool(r["inhibited_by"]),
        )
        for r in rows
    }


def compare(seq: Sequence, played: Played, replayed: Replayed) -> list[str]:
    """Differences, each one line; [] when agentaudit did what Alertmanager did."""
    problems = []
    want, got = summarize(played.notes), summarize(replayed.notes)
    for receiver in sorted(set(want) | set(got)):
        keys = set(want.get(receiver, {})) | set(got.get(receiver, {}))
        for key in sorted(keys):
            a = want.get(receiver, {}).get(key, [])
            b = got.get(receiver, {}).get(key, [])
            if a != b:
                problems.append(
                    f"seed {seq.seed} {receiver} {key}: alertmanager {a} agentaudit {b}"
                )
    for step, (a, b) in enumerate(zip(played.states, replayed.states, strict=True)):
        if a != b:
            problems.append(f"seed {seq.seed} after step {step}: alertmanager {a} agentaudit {b}")
    return problems
