"""Claude Code transcripts: concrete facts from the real corpus files and our own edge cases."""

from __future__ import annotations

import json
import os
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from agentaudit import testing
from agentaudit.collectors import sniff_collector
from agentaudit.ingest import ingest_paths

NAME = "claude-code.transcript"


collect = partial(testing.collect, NAME)


def calls(events, tool=None):
    return [
        e
        for e in events
        if e["tool_call_id"] and e["tool_name"] and (not tool or e["tool_name"] == tool)
    ]


# (file, quarantined, events) for every file in the corpus folder
CORPUS_COUNTS = {
    "claude-code-log-edge-cases-synthetic.jsonl": (3, 16),
    "codemie-incremental-turn-1.jsonl": (0, 20),
    "codemie-incremental-turn-2.jsonl": (0, 43),
    "codemie-session-9eda1058-summaries.jsonl": (0, 37),
    "spotter-short.jsonl": (0, 13),
    "spotter-subagents-agent-aac57f5.jsonl": (0, 28),
    "spotter-task-subagent-parent.jsonl": (0, 80),
    "spotter-tool-heavy.jsonl": (0, 33),
    "spotter-window-compact-boundary.jsonl": (0, 35),
    "spotter-window-errors-rejections.jsonl": (0, 19),
}


def test_every_corpus_file_is_sniffed_and_counted(corpus):
    folder = corpus / "claude-code"
    assert sorted(p.name for p in folder.glob("*.jsonl")) == sorted(CORPUS_COUNTS)
    for name, (quarantined, total) in CORPUS_COUNTS.items():
        path = folder / name
        assert sniff_collector(path, path.read_bytes()[:4096]).name == NAME, name
        events, bad = collect(path)
        assert (len(bad), len(events)) == (quarantined, total), name
        assert len({e["event_id"] for e in events}) == len(events), name


def test_parent_session_bash_calls_task_link_and_progress_copies(corpus):
    events, _ = collect(corpus / "claude-code" / "spotter-task-subagent-parent.jsonl")
    bash = calls(events, "Bash")
    assert len(bash) == 4
    assert bash[0]["command"].startswith('bd create --title="Setup Code Quality Tools')
    assert bash[3]["command"] == "bd dep add spotter-0p7.2 spotter-0p7.1"
    assert {(e["status"], e["exit_code"]) for e in bash} == {("success", 0)}
    assert {e["model"] for e in bash} == {"claude-opus-4-6"}
    assert {e["session_id"] for e in bash} == {"491e126e-1e71-469c-ade2-fcc8af567c74"}
    (task,) = calls(events, "Task")
    assert task["target"] == "491e126e-1e71-469c-ade2-fcc8af567c74/agent-afb92ff"
    # 19 agent_progress lines copy the subagent's messages: kept once each, calls not re-emitted
    progress = [e for e in events if e["operation"] == "progress:agent_progress"]
    assert len(progress) == 19
    assert {e["tool_call_id"] for e in progress} == {task["tool_call_id"]}
    inner = "toolu_01JQF2JAhE4ZbRmFe8odwUvR"  # a tool_use_id seen only inside agent_progress
    assert not [e for e in events if e["tool_call_id"] == inner]
    assert len(calls(events)) == 16
    (write,) = calls(events, "Write")
    assert write["paths"] == ["/home/marco/projects/spotter/plan.md"]
    assert json.loads(write["raw"])["tool_result"]["toolUseResult"]["type"] == "create"


def test_subagent_file_is_linked_to_its_parent(corpus):
    events, _ = collect(corpus / "claude-code" / "spotter-subagents-agent-aac57f5.jsonl")
    parent = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
    assert {e["session_id"] for e in events} == {f"{parent}/agent-aac57f5"}
    assert {e["parent_session_id"] for e in events} == {parent}
    assert len(calls(events, "WebSearch")) == 6
    fetches = calls(events, "WebFetch")
    assert [e["url"] for e in fetches][:2] == [
        "https://hex.pm/packages/opentelemetry_api",
        "https://hex.pm/packages/opentelemetry",
    ]
    assert {e["status"] for e in fetches} == {"success"}
    assert {e["model"] for e in fetches} == {"claude-sonnet-4-5-20250929"}


def test_rejections_are_denied_and_window_edges_are_kept(corpus):
    short, _ = collect(corpus / "claude-code" / "spotter-short.jsonl")
    denied = [(e["tool_name"], e["command"]) for e in calls(short) if e["status"] == "denied"]
    assert denied == [("Bash", "mix phx.server 2>&1 | head -80"), ("Glob", None)]
    window, _ = collect(corpus / "claude-code" / "spotter-window-errors-rejections.jsonl")
    # the first line answers a call made before the window: an outcome event, same call id
    (orphan,) = [e for e in window if e["operation"] == "tool_result"]
    assert orphan["tool_call_id"] == "toolu_013rCqNTDRkut9g6UNG15dsb"
    assert orphan["status"] == "success"
    outputs = calls(window, "TaskOutput")
    assert [e["status"] for e in outputs] == ["success", "denied"]
    (last,) = calls(window, "Bash")  # its result is not in the file: status unknown
    assert last["status"] == "unknown" and last["command"].startswith("tail -20 /tmp/claude-1000/")


def test_summaries_compaction_and_interrupts_are_messages(corpus):
    events, _ = collect(corpus / "claude-code" / "codemie-session-9eda1058-summaries.jsonl")
    assert len([e for e in events if e["operation"] == "summary"]) == 16
    (write,) = calls(events, "Write")
    assert write["status"] == "denied" and write["paths"] == ["/Users/user/repo/available-tools.md"]
    assert {e["agent_version"] for e in calls(events)} == {"2.1.4"}
    compact, _ = collect(corpus / "claude-code" / "spotter-window-compact-boundary.jsonl")
    ops = [e["operation"] for e in compact if e["kind"] == "message"]
    assert "compact_boundary" in ops and "compact_summary" in ops


def _line(**record) -> bytes:
    return json.dumps(record).encode() + b"\n"


def _bash_pair(call_id: str, command: str, result: dict, tool_use_result) -> bytes:
    use = _line(
        type="assistant",
        sessionId="s1",
        uuid=f"u-{call_id}",
        timestamp="2026-04-24T19:00:00.000Z",
        message={
            "model": "claude-opus-4-6",
            "content": [
                {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": command}}
            ],
        },
    )
    res = _line(
        type="user",
        sessionId="s1",
        uuid=f"r-{call_id}",
        timestamp="2026-04-24T19:00:01.000Z",
        message={"content": [{"type": "tool_result", "tool_use_id": call_id, **result}]},
        toolUseResult=tool_use_result,
    )
    return use + res


def test_exit_code_interrupt_and_damaged_lines(tmp_path):
    data = (
        _bash_pair(
            "toolu_a",
            "git push",
            {"content": "Exit code 128\nfatal: no upstream", "is_error": True},
            "Error: Exit code 128\nfatal: no upstream",
        )
        + _bash_pair("toolu_b", "sleep 100", {"content": "Interrupted"}, {"interrupted": True})
        + b'{"type":"user","sessionId":"s1"\x00\x00\n'  # truncated by a crash
        + b"\xff\xfe not utf-8\n"
        + _line(type="future-record-type", sessionId="s1", answer=42)
    )
    events, bad = collect(tmp_path / "s1.jsonl", data)
    first, second = calls(events, "Bash")
    assert (first["status"], first["exit_code"]) == ("failure", 128)
    assert first["error"].startswith("Exit code 128")
    assert second["status"] == "failure"
    assert [q.reason.split(":")[0] for q in bad] == ["invalid JSON", "invalid UTF-8 at byte 0"]
    assert [q.line for q in bad] == [5, 6]
    (unknown,) = [e for e in events if e["operation"] == "future-record-type"]
    assert unknown["kind"] == "other" and json.loads(unknown["raw"])["answer"] == 42


# -- incremental tailing through the real ingest path -------------------------------------


def _fresh_copy(src, dst):
    shutil.copyfile(src, dst)
    os.utime(dst, (time.time(), time.time()))  # "still being written": hold a partial line


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_turn_pairs_ingest_exactly_the_new_records(corpus, store, redactor, tmp_path, agent):
    turn1 = corpus / agent / "codemie-incremental-turn-1.jsonl"
    turn2 = corpus / agent / "codemie-incremental-turn-2.jsonl"
    assert turn2.read_bytes().startswith(turn1.read_bytes())
    live = tmp_path / "live.jsonl"
    _fresh_copy(turn1, live)
    first = ingest_paths(store, [live], redactor=redactor)
    _fresh_copy(turn2, live)
    second = ingest_paths(store, [live], redactor=redactor)
    third = ingest_paths(store, [live], redactor=redactor)
    assert first.files[0].status == second.files[0].status == "read"
    assert third.files[0].status == "unchanged" and third.ingested == 0
    assert (first.quarantined, second.quarantined, second.duplicate) == (0, 0, 0)
    # the same file read whole in one go gives exactly the same rows: the second run read
    # exactly the records appended after turn 1, with no duplicates
    from agentaudit.store import Store

    prefix = len(turn1.read_bytes())
    with Store.open(tmp_path / "whole.duckdb") as whole:
        whole_report = ingest_paths(whole, [live], redactor=redactor)
        sql = "SELECT event_id, tool_call_id, command, status FROM events ORDER BY 1"
        assert store.rows(sql) == whole.rows(sql)
        appended = whole.rows("SELECT count(*) AS n FROM events WHERE source_offset >= ?", [prefix])
    assert first.ingested + second.ingested == whole_report.ingested
    assert second.ingested == appended[0]["n"] > 0
    new_calls = store.rows(
        "SELECT tool_name FROM events WHERE tool_call_id IS NOT NULL AND source_offset >= ?",
        [prefix],
    )
    assert [r["tool_name"] for r in new_calls] == {"claude-code": ["Task", "Task"], "codex": []}[
        agent
    ]


def test_final_line_without_newline_is_held_back(store, redactor, tmp_path):
    live = tmp_path / "s2.jsonl"
    pair = _bash_pair("toolu_c", "ls", {"content": "a\nb", "is_error": False}, {"stdout": "a\nb"})
    use, result = pair.split(b"\n", 1)
    live.write_bytes(use + b"\n" + result[:-30])  # the result line is still being written
    first = ingest_paths(store, [live], redactor=redactor)
    assert (first.ingested, first.quarantined) == (1, 0)  # the call, still open
    assert store.rows("SELECT status FROM events")[0]["status"] == "unknown"
    live.write_bytes(use + b"\n" + result)
    second = ingest_paths(store, [live], redactor=redactor)
    assert (second.ingested, second.quarantined) == (1, 0)
    rows = store.rows("SELECT operation, status, tool_call_id FROM events ORDER BY seq")
    assert [(r["operation"], r["status"]) for r in rows] == [
        ("ls", "unknown"),
        ("tool_result", "success"),
    ]
    assert {r["tool_call_id"] for r in rows} == {"toolu_c"}


def test_rewritten_shorter_transcript_is_reread_without_duplicates(store, redactor, tmp_path):
    live = tmp_path / "s3.jsonl"
    one = _bash_pair("toolu_d", "ls", {"content": "x"}, {"stdout": "x"})
    two = _bash_pair("toolu_e", "pwd", {"content": "/"}, {"stdout": "/"})
    live.write_bytes(one + two)
    assert ingest_paths(store, [live], redactor=redactor).ingested == 2
    live.write_bytes(two)  # rewritten in place, shorter, different head
    again = ingest_paths(store, [live], redactor=redactor)
    assert (again.ingested, again.duplicate) == (0, 1)
    assert store.count("events") == 2


def test_spliced_records_are_both_recovered(tmp_path):
    pair = _bash_pair("toolu_s", "whoami", {"content": "dev"}, {"stdout": "dev"})
    use, result = pair.rstrip(b"\n").split(b"\n")
    # a crash wrote a partial record and the next record was glued on without a newline
    spliced = use[:40] + result + b"\n"
    events, bad = collect(tmp_path / "s9.jsonl", use + b"\n" + spliced)
    assert bad == []
    (call,) = calls(events, "Bash")
    assert (call["command"], call["status"]) == ("whoami", "success")


def test_tool_heavy_file_calls_versions_and_damaged_records(corpus):
    events, _ = collect(corpus / "claude-code" / "spotter-tool-heavy.jsonl")
    assert sorted(e["tool_name"] for e in calls(events)) == [
        "Bash",
        "Bash",
        "Glob",
        "Read",
        "WebFetch",
        "WebSearch",
    ]
    assert [(e["command"], e["status"], e["exit_code"]) for e in calls(events, "Bash")] == [
        ("mix phx.server", "success", 0),
        (
            "tail -5 /tmp/claude-1000/-home-marco-projects-spotter/tasks/bae407b.output",
            "success",
            0,
        ),
    ]
    # which parser made each row, and the agent's own version where the record says it
    assert {e["parser_version"] for e in events} == {"claude-code.transcript/1"}
    assert {e["agent_version"] for e in calls(events)} == {"2.1.38"}
    assert len([e for e in events if e["operation"] == "local_command"]) == 2
    _, bad = collect(corpus / "claude-code" / "claude-code-log-edge-cases-synthetic.jsonl")
    # a bare string, a number and an array where a record object should be
    assert [(q.line, q.reason) for q in bad] == [
        (13, "not a JSON object"),
        (15, "not a JSON object"),
        (16, "not a JSON object"),
    ]


SPILL = (
    "<persisted-output>\nOutput too large (4.8MB). Full output saved to: "
    "/home/u/.claude/projects/-w/s1/tool-results/toolu_big.txt\n\n"
    "Preview (first 2KB):\nline 1\n...\n</persisted-output>"
)


def test_spilled_tool_result_keeps_its_pointer(store, redactor, tmp_path):
    """The marker's wording comes from issue reports (anthropics/claude-code#23948), not docs."""
    data = _bash_pair("toolu_big", "cat huge.log", {"content": SPILL}, {"stdout": SPILL})
    events, bad = collect(tmp_path / "s1.jsonl", data)
    assert bad == []
    (call,) = calls(events, "Bash")
    raw = json.loads(call["raw"])
    assert raw["spilled_output"] == "/home/u/.claude/projects/-w/s1/tool-results/toolu_big.txt"
    assert (call["status"], call["exit_code"]) == ("success", 0)
    # a result whose call was in an earlier read keeps the pointer too
    result_only = data.split(b"\n", 1)[1]
    events, _ = collect(tmp_path / "s1.jsonl", result_only)
    (late,) = [e for e in events if e["operation"] == "tool_result"]
    assert json.loads(late["raw"])["spilled_output"].endswith("tool-results/toolu_big.txt")
    # a pointer only in the structured result (shape not observed: handled defensively)
    other = _bash_pair(
        "toolu_p", "ls -R /", {"content": "ok"}, {"persistedOutputPath": "/p/s/tool-results/x.txt"}
    )
    events, _ = collect(tmp_path / "s1.jsonl", other)
    assert json.loads(calls(events)[0]["raw"])["spilled_output"] == "/p/s/tool-results/x.txt"
    plain = _bash_pair("toolu_q", "ls", {"content": "a"}, {"stdout": "a"})
    events, _ = collect(tmp_path / "s1.jsonl", plain)
    assert "spilled_output" not in json.loads(calls(events)[0]["raw"])
    # the spill file itself is never read as a transcript, even when it holds JSON lines
    spill = tmp_path / "s1" / "tool-results" / "toolu_big.jsonl"
    spill.parent.mkdir(parents=True)
    spill.write_bytes(plain)
    assert sniff_collector(spill, spill.read_bytes()) is None
    report = ingest_paths(store, [spill], redactor=redactor)
    assert (report.ingested, report.files[0].status) == (0, "skipped")


WORKFLOW = (
    Path(__file__).resolve().parents[2]
    / "tests/data/agents/claude-code/workflow-subagents/projects/-home-dev-shop"
)


def test_workflow_subagents_are_tied_to_the_parent_and_its_workflow_call(store, redactor):
    """Written from the layout public reports describe (tests/data/agents/SOURCES.md)."""
    report = ingest_paths(store, [WORKFLOW], redactor=redactor)
    by_status = {}
    for f in report.files:
        by_status.setdefault(f.status, []).append(Path(f.path).name)
    assert sorted(by_status["companion"]) == [
        "agent-a00eb133276976080.meta.json",
        "agent-a5c2d9e4410f8b731.meta.json",
        "journal.jsonl",
        "wf_dd551b62-a1d.json",
    ]
    assert report.quarantined == 0 and "skipped" not in by_status
    parent = "20ddae6f-e4e5-4a68-a8d6-0c8e6a88554a"
    (workflow,) = store.rows("SELECT target FROM events WHERE tool_name = 'Workflow'")
    run = f"{parent}/wf_dd551b62-a1d"
    assert workflow["target"] == run
    agents = store.rows(
        "SELECT DISTINCT session_id, parent_session_id FROM events "
        "WHERE parent_session_id IS NOT NULL ORDER BY session_id"
    )
    assert agents == [
        {"session_id": f"{run}/agent-a00eb133276976080", "parent_session_id": parent},
        {"session_id": f"{run}/agent-a5c2d9e4410f8b731", "parent_session_id": parent},
    ]
    (rm,) = store.rows("SELECT session_id, command FROM events WHERE command LIKE 'rm -rf%'")
    assert rm["session_id"].startswith(workflow["target"] + "/")
