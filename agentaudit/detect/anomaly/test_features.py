"""Window features on small hand-made sessions: each asserted value follows from the events."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from agentaudit.detect.anomaly import forest
from agentaudit.detect.anomaly.features import FEATURES, RISK_FEATURES, window_features
from agentaudit.detect.anomaly.synthetic import SessionGenerator
from agentaudit.enrich.event import enrich
from agentaudit.enrich.secrets import Redactor
from agentaudit.schema import new_event
from agentaudit.store import Store

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as opened:
        yield opened


def _events(session: str, steps: list[tuple[float, str, str]], **extra) -> list[dict]:
    """(seconds after T0, kind, command or prompt text) as enriched canonical events."""
    redactor = Redactor(b"k" * 32)
    out = []
    for seq, (seconds, kind, text) in enumerate(steps):
        columns = {"kind": kind, "session_id": session, "cwd": "/home/dev/app", **extra}
        if kind == "process":
            columns["command"] = text
        else:
            columns.update(operation="user_prompt", text=text)
        event = new_event("cursor.hooks", f"{session}-{seq}", **columns)
        event.update(time=T0 + timedelta(seconds=seconds), seq=seq, time_precision="ms")
        out.append(enrich(event, redactor))
    return out


def _row(frame, session: str, seconds: int):
    start = T0 + timedelta(seconds=seconds)
    [row] = frame[(frame["owner"] == session) & (frame["window_start"] == start)].to_dict("records")
    return row


def test_sixty_second_sums_cover_the_window_and_the_five_before_it(store):
    steps = [(s, "process", "git status") for s in (0, 1, 12, 35, 55, 58, 61, 75)]
    store.append_events(_events("s1", steps))
    frame = window_features(store)
    # windows start at 0, 10, 30, 50, 60, 70; the one at 70 s sums 20..79 s: 35, 55, 58, 61, 75
    assert _row(frame, "s1", 70)["events_60s"] == 5
    assert _row(frame, "s1", 50)["events_60s"] == 6  # 0..59 s
    assert _row(frame, "s1", 0)["events"] == 2 and _row(frame, "s1", 0)["events_60s"] == 2


def test_a_change_after_the_user_froze_the_code_counts_as_critical_destruction(store):
    steps = [
        (0, "message", "CODE FREEZE. Do not change anything."),
        (30, "process", "npm run db:push"),
        (31, "process", "git status"),
    ]
    store.append_events(_events("s2", steps))
    row = _row(window_features(store), "s2", 30)
    assert row["change_after_restriction"] == 1
    assert row["destructive"] == 1 and row["severity_max"] == 4
    assert row["destructive_weighted"] == 8  # a critical event weighs 2^(4-1)


def test_moves_onto_one_path_after_a_failed_mkdir(store):
    events = _events(
        "s3",
        [(0, "process", 'mkdir "../new dir"')]
        + [(1 + i, "process", f'mv "f{i}.txt" "../new dir"') for i in range(3)],
    )
    events[0]["status"] = "failure"
    store.append_events(events)
    row = _row(window_features(store), "s3", 0)
    assert row["moves"] == 3 and row["moves_onto_one_target"] == 2
    # the second and third move each destroyed the file moved before: high-severity destruction
    assert row["destructive"] == 2 and row["severity_max"] == 3
    assert row["destructive_weighted"] == 8
    assert row["failure_then_change"] == 2 + 3  # destruction and moves after a failure


def test_harm_beyond_the_baseline_outranks_any_window_within_it(tmp_path):
    with Store.open(tmp_path / "t.duckdb") as store:
        store.append_events(list(SessionGenerator(seed=3).sessions(80)))
        model = forest.train(store)
        frame = window_features(store, baseline=model.baseline)
    scores = model.score(frame)
    harmful = frame.iloc[[0]].copy()
    harmful["destructive_outside"] = 1.0
    novel = frame.iloc[[0]].copy()
    novel["new_programs"] = novel["new_commands"] = 50.0  # context: unusual, not harmful
    assert model.score(harmful)[0] < scores.min()
    assert model.beyond(novel).sum() == 0
    [first] = model.explain(harmful.iloc[0], top=1)
    assert first["feature"] == "destructive_outside" and first["beyond_baseline"] and first["risk"]
    context = [FEATURES.index(n) for n in FEATURES if n not in RISK_FEATURES]
    assert np.all(model.beyond(frame)[:, context] == 0)  # context never enters the term


@pytest.mark.parametrize("kind", ["process", "message"])
def test_a_session_with_no_restriction_or_moves_has_none(store, kind):
    store.append_events(_events("s4", [(0, kind, "ls -la" if kind == "process" else "hi")]))
    row = _row(window_features(store), "s4", 0)
    assert row["change_after_restriction"] == row["moves"] == row["moves_onto_one_target"] == 0
