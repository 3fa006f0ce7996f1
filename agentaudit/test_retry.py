"""The one retry layer: which statuses are retried, and the in-process loop (tenacity)."""

from __future__ import annotations

import random

import pytest

from agentaudit.retry import Outcome, backoff_delay, call_with_retries, outcome_for_status


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(404, True), (401, True), (403, True), (408, True), (429, True), (500, True),
     (503, True), (400, False), (410, False), (422, False), (501, False), (505, False)],
)  # fmt: skip
def test_each_status_is_decided_as_documented(status, retryable):
    outcome = outcome_for_status(status, "x")
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, retryable, status)


def test_2xx_is_delivered():
    assert outcome_for_status(202).ok


def scripted(outcomes: list[Outcome]):
    calls: list[int] = []

    def send() -> Outcome:
        calls.append(1)
        return outcomes[min(len(calls), len(outcomes)) - 1]

    return send, calls


def test_retries_until_success_with_growing_waits():
    send, calls = scripted([outcome_for_status(503)] * 3 + [outcome_for_status(200)])
    slept: list[float] = []
    outcome = call_with_retries(send, attempts=5, base_delay=1.0, sleep=slept.append)
    assert outcome.ok and len(calls) == 4
    assert [int(2 * s) >= 2**i for i, s in enumerate(slept)] == [True, True, True]


def test_a_final_answer_stops_at_once_and_is_returned():
    send, calls = scripted([outcome_for_status(410)])
    slept: list[float] = []
    outcome = call_with_retries(send, attempts=5, base_delay=1.0, sleep=slept.append)
    assert (outcome.status_code, len(calls), slept) == (410, 1, [])


def test_gives_up_after_the_attempts_with_the_last_outcome():
    send, calls = scripted([outcome_for_status(500)])
    outcome = call_with_retries(send, attempts=3, base_delay=0.5, sleep=lambda _: None)
    assert (outcome.ok, outcome.status_code, len(calls)) == (False, 500, 3)


def test_the_servers_retry_after_wins_but_is_capped():
    busy = Outcome(False, 429, True, "busy", retry_after=7.0)
    very_busy = Outcome(False, 429, True, "busy", retry_after=900.0)
    send, _ = scripted([busy, very_busy, outcome_for_status(200)])
    slept: list[float] = []
    call_with_retries(send, attempts=5, base_delay=1.0, max_delay=60, sleep=slept.append)
    assert slept == [7.0, 60.0]


def test_backoff_is_capped_and_jittered():
    rng = random.Random(3)
    delays = [backoff_delay(9, 1.0, 30.0, rng) for _ in range(50)]
    assert all(15.0 <= d <= 30.0 for d in delays) and len(set(delays)) > 1
