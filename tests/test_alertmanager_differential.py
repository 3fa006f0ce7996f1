"""Differential test: generated alert sequences through the real Alertmanager and agentaudit.

Each sequence (tests/alertmanager_differential.py) runs against its own Alertmanager on
127.0.0.1 (Debian's prometheus-alertmanager, started by the harness), several at once; the
same steps at the same times then go through agentaudit's engine with a hand-moved clock.
Who is notified, per receiver and group key, with which alerts firing or resolved, and which
alerts are silenced or inhibited after each step, must be the same. Nothing is mocked.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.alertmanager_differential import compare, generate, replay_agentaudit, run_alertmanager
from tests.alertmanager_harness import find_binary

pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(
        find_binary() is None,
        reason="Alertmanager binary not found: apt-get install prometheus-alertmanager "
        "(or bash .ci/install-alertmanager; ALERTMANAGER_BIN overrides the path)",
    ),
]

SEEDS = range(22)
PARALLEL = 11  # two rounds; the instances mostly sleep between steps


def both(seq):
    run = run_alertmanager(seq)
    return run, replay_agentaudit(seq, run)


def test_agentaudit_notifies_and_mutes_as_alertmanager_does():
    sequences = [generate(seed) for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        # each worker replays its sequence while the others' Alertmanagers run
        results = list(pool.map(both, sequences))
    played = [run for run, _ in results]
    problems, coverage = [], {"inhibited": 0, "silenced": 0, "continue": 0, "resolved": 0}
    for seq, (run, replayed) in zip(sequences, results, strict=True):
        problems += compare(seq, run, replayed)
        states = [flags for step in run.states for flags in step.values()]
        coverage["silenced"] += any(silenced for silenced, _ in states)
        coverage["inhibited"] += any(inhibited for _, inhibited in states)
        coverage["resolved"] += any(n["status"] == "resolved" for n in run.notes)
        notified: dict[tuple, set[str]] = {}
        for note in run.notes:
            for alert in note["alerts"]:
                key = tuple(sorted(alert["labels"].items()))
                notified.setdefault(key, set()).add(note["receiver"])
        coverage["continue"] += any(len(r) > 1 for r in notified.values())
    assert problems == [], "\n".join(problems)
    # the sequences exercised what they are meant to (counted on Alertmanager's side)
    assert all(n >= 3 for n in coverage.values()), coverage
    assert sum(bool(run.notes) for run in played) == len(SEEDS)
