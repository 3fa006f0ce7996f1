"""Source health over a real (in-memory) DuckDB store: silent, asleep, learning, archive."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agentaudit.detect.driver import run_detection
from agentaudit.detect.sql.source_silent import SourceSilent
from agentaudit.health.config import HealthConfig, SourcesConfigError, load_health_config
from agentaudit.health.sources import source_health
from agentaudit.testing import at, event, store_with

MINUTE = 60
QUIET = HealthConfig(quiet={"shell.zsh": timedelta(minutes=5), "shell.bash": timedelta(minutes=5)})


def reports(source: str, minutes: range, **columns) -> list:
    return [event(m * MINUTE, source, command="ls", **columns) for m in minutes]


def states(store, config=QUIET, minute: float = 0) -> dict[str, str]:
    return {h.source: h.state for h in source_health(store, config, at(minute * MINUTE))}


def test_a_source_quiet_while_its_host_reports_is_silent_and_the_other_is_not():
    events = reports("shell.zsh", range(0, 10)) + reports("shell.bash", range(0, 30))
    with store_with(events) as store:
        assert states(store, minute=12) == {"shell.zsh": "ok", "shell.bash": "ok"}
        assert states(store, minute=30) == {"shell.zsh": "silent", "shell.bash": "ok"}


def test_a_host_whose_sources_all_stop_together_is_asleep_not_silent():
    events = reports("shell.zsh", range(0, 10)) + reports("shell.bash", range(0, 10))
    with store_with(events) as store:
        assert states(store, minute=300) == {"shell.zsh": "asleep", "shell.bash": "asleep"}


def test_after_a_sleep_the_quiet_period_counts_from_the_hosts_return():
    """The laptop slept from minute 10 to 70; at its return only bash reports at first."""
    events = (
        reports("shell.zsh", range(0, 10))
        + reports("shell.bash", range(0, 10))
        + reports("shell.bash", range(70, 81))
    )
    with store_with(events) as store:
        assert states(store, minute=73)["shell.zsh"] != "silent"  # awake for 3 min only
        assert states(store, minute=80)["shell.zsh"] == "silent"


def test_hosts_are_judged_apart():
    events = reports("shell.zsh", range(0, 10), host="laptop") + reports(
        "shell.bash", range(0, 30), host="server"
    )
    with store_with(events) as store:
        by_host = {(h.source, h.host): h.state for h in source_health(store, QUIET, at(1800))}
    assert by_host == {("shell.zsh", "laptop"): "asleep", ("shell.bash", "server"): "ok"}


def test_a_quiet_period_is_learned_from_history_and_new_sources_are_learning():
    every_ten = range(0, 8 * 24 * 60, 10)  # eight days, a report every ten minutes
    events = reports("shell.zsh", every_ten) + reports("shell.bash", range(0, 8 * 24 * 60 + 120))
    events += reports("shell.fish", range(0, 3))
    with store_with(events) as store:
        health = {
            h.source: h
            for h in source_health(store, HealthConfig(), at((every_ten[-1] + 121) * MINUTE))
        }
    assert health["shell.zsh"].quiet_from == "learned"
    assert health["shell.zsh"].quiet_seconds == 3600  # 1.5 x 10 min, at least an hour
    assert health["shell.zsh"].usual_gap_seconds == 600
    assert health["shell.zsh"].state == "silent"
    assert health["shell.fish"].state == "learning"  # three reports: nothing learned yet


def test_old_logs_imported_in_bulk_expect_nothing():
    imported = reports("shell.zsh", range(0, 30))
    for row in imported:  # stored ninety days after they happened
        row["ingested_at"] = at(90 * 24 * 3600)
    live = reports("shell.bash", range(0, 90 * 24 * 60, 60))
    with store_with(imported + live) as store:
        assert states(store, HealthConfig(), minute=90 * 24 * 60)["shell.zsh"] == "archive"


def test_the_detector_restates_one_silence_and_raises_a_new_one_later():
    events = reports("shell.zsh", range(0, 10)) + reports("shell.bash", range(0, 30))
    with store_with(events) as store:
        detector = SourceSilent(QUIET, clock=lambda: at(30 * MINUTE))
        first = run_detection(store, [detector])
        again = run_detection(store, [detector])
        (finding,) = first.new
        assert finding["rule_id"] == "source-silent" and finding["severity"] == "high"
        assert finding["title"].startswith("shell.zsh silent for 0:21:00")
        assert again.new == [] and again.findings[0]["finding_id"] == finding["finding_id"]
        store.append_events(
            reports("shell.zsh", range(31, 32)) + reports("shell.bash", range(30, 45))
        )
        later = run_detection(store, [SourceSilent(QUIET, clock=lambda: at(45 * MINUTE))])
        assert [f["finding_id"] != finding["finding_id"] for f in later.new] == [True]


def test_the_settings_file_and_its_errors(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("quiet:\n  railway.audit: 6h\n  shell.zsh@laptop: 90s\nsleep_gap: 45m\n")
    config = load_health_config(path)
    assert config.quiet_for("railway.audit", "") == timedelta(hours=6)
    assert config.quiet_for("shell.zsh", "laptop") == timedelta(seconds=90)
    assert config.quiet_for("shell.zsh", "other") is None
    assert config.sleep_gap == timedelta(minutes=45)
    path.write_text("quiet:\n  railway.audit: soon\n")
    with pytest.raises(SourcesConfigError, match=r"quiet.railway.audit: 'soon' is not a duration"):
        load_health_config(path)
    assert load_health_config(tmp_path / "absent.yaml") == HealthConfig()


def test_sources_health_command_reports_sources_and_pullers(tmp_path, monkeypatch):
    """`agentaudit sources --health --json` over a real store file; a puller that failed three
    runs in a row and one whose interval outlasts Railway Hobby's 48 h are both named."""
    from agentaudit.health.pulls import record_pull
    from agentaudit.paths import home
    from agentaudit.store import Store
    from tests.cli_helpers import invoke_cli, run_cli

    db = tmp_path / "store.duckdb"
    with Store.open(db) as store:
        store.append_events(
            reports("shell.zsh", range(0, 10)) + reports("shell.bash", range(0, 30))
        )
    (home() / "sources.yaml").write_text("quiet:\n  shell.zsh: 5m\npulls:\n  railway: 3d\n")
    for _ in range(3):
        record_pull("cursor", "team-1", ok=False, error="HTTP 401: bad token")
    result = json.loads(run_cli("sources", "--health", "--json", "--db", db))
    states = {s["source"]: s["state"] for s in result["sources"]}
    assert states["shell.zsh"] == "silent"  # far past its 5 min while bash went on for 20
    problems = {p["puller"]: p["problems"] for p in result["pulls"]}
    assert problems["cursor"] == ["failing: 3 runs in a row (HTTP 401: bad token)"]
    assert "Railway Free/Trial/Hobby keep 48 h" in problems["railway"][0]
    text = run_cli("sources", "--health", "--db", db)
    assert "shell.zsh" in text and "silent" in text and "failing: 3 runs" in text
    (home() / "sources.yaml").write_text("quiet:\n  shell.zsh: whenever\n")
    bad = invoke_cli("sources", "--health", "--db", db)  # main() prints a UserError as one line
    assert isinstance(bad.exception, SourcesConfigError)
    assert "quiet.shell.zsh: 'whenever' is not a duration" in str(bad.exception)


@pytest.mark.parametrize("stopped", ["claude-code.hooks", "claude-code.otel"])
def test_a_hook_or_otlp_exporter_that_stops_while_the_transcript_grows_is_silent(stopped):
    """The reported upstream failures: the OTLP export stops, or a hook is removed, while the
    agent goes on writing its transcript on the same machine."""
    config = HealthConfig(quiet={stopped: timedelta(minutes=5)})
    events = reports(stopped, range(0, 10)) + reports("claude-code.transcript", range(0, 30))
    with store_with(events) as store:
        found = {h.source: h.state for h in source_health(store, config, at(30 * MINUTE))}
    assert found[stopped] == "silent"
    assert found["claude-code.transcript"] == "learning"  # no quiet period of its own yet


def test_a_stopped_trail_is_counted_on_its_source():
    """A provider trail stopped (CloudTrail StopLogging: an audit_tamper record) is named."""
    stopped = event(0, "aws.cloudtrail", kind="api", operation="StopLogging")
    with store_with([stopped, *reports("shell.bash", range(0, 3))]) as store:
        health = {h.source: h for h in source_health(store, QUIET, at(300))}
    assert health["aws.cloudtrail"].tamper_events == 1
    assert health["shell.bash"].tamper_events == 0
