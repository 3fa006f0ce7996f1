"""The one driver: each detector isolated, anchors respected, one finding policy."""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo, DetectorRefused
from agentaudit.detect.driver import builtin_detectors, run_detection
from agentaudit.detect.sql.destructive_burst import DestructiveBurst
from agentaudit.detect.sql.destructive_provider_http import DestructiveProviderHttp
from agentaudit.detect.window import Window
from agentaudit.store import Store
from agentaudit.testing import event, store_with

CURL = (
    "curl -X POST https://backboard.railway.app/graphql/v2 -H 'Authorization: Bearer x' "
    '-d \'{"query":"mutation { volumeDelete(volumeId: \\"v-1\\") }"}\''
)


class Raises(Detector):
    info = DetectorInfo("test-raises", "raises", "high", "rule", "a detector with a bug")

    def query(self) -> str:
        return "SELECT no_such_column FROM event_sessions"


class Refuses(Detector):
    info = DetectorInfo("test-refuses", "refuses", "medium", "model", "a stale model")

    def query(self) -> str:
        return ""

    def run(self, store: Store) -> list[dict[str, Any]]:
        raise DetectorRefused("trained with scikit-learn 0.24.2, this is another")


class MustNotRun(Detector):
    info = DetectorInfo("test-anchored", "anchored", "high", "rule", "needs a destructive call")
    anchor = "destructive"

    def query(self) -> str:
        raise AssertionError("run although no event in scope is destructive")


def incident() -> list[dict]:
    return [event(0, session_id="s1", command=CURL, tool_call_id="c1")]


def test_a_detector_that_raises_or_refuses_is_reported_and_the_others_findings_are_stored():
    store = store_with(incident())
    report = run_detection(store, [Raises(), Refuses(), DestructiveProviderHttp()])
    assert [(f.detector, f.kind) for f in report.failures] == [
        ("test-raises", "error"),
        ("test-refuses", "refused"),
    ]
    assert "no_such_column" in report.failures[0].reason
    assert report.refused == ["test-refuses: trained with scikit-learn 0.24.2, this is another"]
    stored = store.rows("SELECT rule_id FROM findings")
    assert stored == [{"rule_id": "destructive-provider-http"}] and report.findings_new == 1
    as_json = report.as_dict()["detector_failures"]
    assert {f["detector"] for f in as_json} == {"test-raises", "test-refuses"}


def test_a_detector_without_its_anchor_in_the_window_is_skipped():
    benign = event(0, session_id="s1", command="git status")
    store = store_with([benign])
    window = Window(benign["ingested_at"], settle_seconds=0)
    report = run_detection(store, [MustNotRun(), DestructiveProviderHttp()], window=window)
    assert report.ran == [] and report.failures == []
    assert report.events_in_scope == 1


def test_a_second_one_shot_detect_restates_a_finding_that_gained_an_event():
    """The issue's drift: a burst that gains its third call counts it after a second
    one-shot detect too, under the same id."""
    calls = [
        event(t, session_id="s1", command=f"rm -rf ~/data{i}", tool_call_id=f"c{i}")
        for i, t in enumerate((0, 5, 10))
    ]
    store = store_with(calls[:2])
    first = run_detection(store, [DestructiveBurst()])
    store.append_events(calls[2:])
    second = run_detection(store, [DestructiveBurst()])
    assert [f["finding_id"] for f in first.new] == second.updated and not second.new
    (stored,) = store.rows("SELECT event_ids, title FROM findings")
    assert len(stored["event_ids"]) == 3 and "3 destructive calls" in stored["title"]


def test_urgent_findings_are_stored_and_paged_before_the_sigma_pack_runs():
    store = store_with(incident())
    paged: list[tuple[list[str], int]] = []

    def page(new: list[dict]) -> None:
        sigma = store.rows("SELECT count(*) AS n FROM findings WHERE rule_id LIKE 'sigma:%'")
        paged.append(([f["rule_id"] for f in new], sigma[0]["n"]))

    detectors = builtin_detectors()
    report = run_detection(store, detectors, on_urgent=page)
    assert len(paged) == 1 and "destructive-provider-http" in paged[0][0]
    assert paged[0][1] == 0  # the pack had not run yet
    assert any(f["rule_id"].startswith("sigma:") for f in report.new)  # it ran right after
