"""`detect` runs to the end on every mix of timed and untimed sources (issue 16).

Each combination is ingested into a real store and taken through what `agentaudit detect`
does (detect, alert, render the findings table) and what an analyst does next (list and show
every incident, its timeline, the OCSF export). Nothing here may raise; a detector that
fails is reported by the run, and no built-in detector may fail on these inputs.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from agentaudit.alert.config import from_urls
from agentaudit.analyst import incidents, render, render_steps
from agentaudit.analyst.timeline import incident_timeline
from agentaudit.export.ocsf import export_ocsf
from agentaudit.ingest import ingest_paths
from agentaudit.pipeline import detect_and_alert
from agentaudit.scenarios import scenario_files
from agentaudit.store import Store

CORPUS_DIRS = (
    *("aider", "claude-code", "codex", "cursor", "gemini", "openhands"),
    *("atuin", "bash", "fish", "powershell", "zsh"),
    *("azure", "cloudtrail", "gcp", "github", "k8s"),
)


def _corpus_files(corpus: Path) -> list[Path]:
    return sorted(
        p
        for d in CORPUS_DIRS
        if (corpus / d).is_dir()
        for p in (corpus / d).rglob("*")
        if p.is_file() and not p.name.endswith(".labels.tsv")
    )


def detect_to_the_end(store: Store) -> dict:
    """What `detect` and the analyst commands do after it; returns what they saw."""
    report, _, _ = detect_and_alert(store, [], config=from_urls([]), deliver=False)
    console = Console(file=io.StringIO(), width=160)
    console.print(render.findings_table(report.findings))
    listed = incidents.list_incidents(store)
    console.print(render_steps.incidents_table(listed))
    for row in listed:
        console.print(render_steps.incident_view(incidents.get_incident(store, row["incident_id"])))
        incident_timeline(store, row["incident_id"])
    export_ocsf(store, io.StringIO())
    return {"report": report, "incidents": listed}


def _count(store: Store, where: str) -> int:
    return store.rows(f"SELECT count(*) AS n FROM events WHERE {where}")[0]["n"]


def _no_detector_failed(report) -> None:
    assert [f for f in report.failures if f.kind == "error"] == []


def test_each_corpus_file_alone(corpus, tmp_path):
    files = _corpus_files(corpus)
    assert len(files) > 40
    read = 0
    for i, path in enumerate(files):
        with Store.open(tmp_path / f"{i}.duckdb") as store:
            if ingest_paths(store, [path]).ingested == 0:
                continue
            read += 1
            _no_detector_failed(detect_to_the_end(store)["report"])
    assert read > 30


def test_every_corpus_file_in_one_store(corpus, tmp_path):
    with Store.open(tmp_path / "all.duckdb") as store:
        ingest_paths(store, _corpus_files(corpus))
        assert store.count("events") > 3000
        seen = detect_to_the_end(store)
        _no_detector_failed(seen["report"])
        assert seen["report"].findings


UNTIMED_BASH = "ls\ncd /srv/app\nrm -rf /srv/app/data\nterraform destroy -auto-approve\n"
UNTIMED_PWSH = "Get-ChildItem\nRemove-Item -Recurse -Force C:\\Users\\sam\\projects\nexit\n"


def test_untimed_bash_and_powershell_histories(corpus, tmp_path):
    bash = tmp_path / "home" / ".bash_history"
    bash.parent.mkdir()
    bash.write_text(UNTIMED_BASH)
    pwsh = tmp_path / "ConsoleHost_history.txt"
    pwsh.write_text(UNTIMED_PWSH)
    paths = [
        bash,
        pwsh,
        corpus / "bash" / "generated-bash5-plain-lithist_history",
        corpus / "powershell" / "psprofiles-ConsoleHost_history.txt",
    ]
    with Store.open(tmp_path / "s.duckdb") as store:
        assert ingest_paths(store, paths).ingested > 10
        assert _count(store, "time IS NULL") > 10
        seen = detect_to_the_end(store)
        _no_detector_failed(seen["report"])
        untimed = [f for f in seen["report"].findings if f["first_seen"] is None]
        assert untimed, "a destructive line without a time is still found"
        # a finding on untimed events has a NULL time range and says so
        assert all(f["last_seen"] is None for f in untimed)
        assert all("untimed" in json.loads(f["evidence"]) for f in untimed)
        assert seen["incidents"], "and it still pages"


def test_cursor_transcript_beside_timed_hooks_of_the_same_session(tmp_path):
    """The issue's case: a Cursor transcript (no timestamps) in the same store as the timed
    hooks of the same conversation; the GitHub branch-protection delete is still raised."""
    hooks = scenario_files("cursor-github-protection")
    conversation = json.loads(
        next(p for p in hooks if p.name == "cursor-hooks.jsonl").read_text().splitlines()[0]
    )["payload"]["conversation_id"]
    transcript = tmp_path / "agent-transcripts" / conversation / f"{conversation}.jsonl"
    transcript.parent.mkdir(parents=True)
    lines = [
        {"role": "user", "message": {"content": [{"type": "text", "text": "fix the CI"}]}},
        {
            "role": "assistant",
            "message": {
                "content": [
                    {
                        "type": "tool_use",
                        "name": "Shell",
                        "input": {"command": "rm -rf /home/sam/.ssh"},
                    }
                ]
            },
        },
        {"type": "turn_ended", "status": "success"},
    ]
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [*hooks, transcript])
        assert _count(store, f"session_id = '{conversation}' AND time IS NULL") >= 2
        seen = detect_to_the_end(store)
        _no_detector_failed(seen["report"])
        assert any(f["severity"] == "critical" for f in seen["report"].findings)


def test_provider_records_without_a_time(corpus, tmp_path):
    with gzip.open(corpus / "cloudtrail" / "invictus-stratus-2023-07-10.json.gz", "rt") as f:
        records = json.load(f)["Records"]
    deletes = [r for r in records if r["eventName"].startswith("Delete")][:20]
    for record in deletes[::2]:
        record.pop("eventTime")
    untimed = tmp_path / "cloudtrail-untimed.json"
    untimed.write_text(json.dumps({"Records": deletes}))
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [untimed])
        assert _count(store, "time IS NULL") == 10
        seen = detect_to_the_end(store)
        _no_detector_failed(seen["report"])
        assert seen["report"].findings


@pytest.mark.parametrize("name", ["pocketos", "cursor-github-protection"])
def test_replays_with_their_times_dropped(tmp_path, name):
    """The same replay with every `time` made NULL after ingest: order by seq only."""
    with Store.open(tmp_path / "s.duckdb") as store:
        ingest_paths(store, scenario_files(name))
        store.con.execute("UPDATE events SET time = NULL, time_precision = 'none'")
        seen = detect_to_the_end(store)
        _no_detector_failed(seen["report"])
