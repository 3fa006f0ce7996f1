"""Shell history collectors: bash, zsh, fish, atuin, PowerShell, on the corpus and own fixtures."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from agentaudit.collectors import get_collector, sniff_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.collectors.shell.zsh import _HEADER
from agentaudit.ingest import ingest_paths


def collect(name: str, data: bytes, path: str = "mem"):
    return list(get_collector(name).collect(SourceInput.from_bytes(path, data)))


def events_of(outputs):
    return [o for o in outputs if isinstance(o, dict)]


def collect_file(path: Path):
    collector = sniff_collector(path, path.read_bytes()[:4096])
    assert collector is not None, f"no collector sniffed {path.name}"
    with path.open("rb") as fh:
        return collector.name, list(collector.collect(SourceInput(str(path), fh)))


# (file, collector, events, quarantined): every shell corpus file, with its counts.
CORPUS = [
    ("bash/generated-bash5-histtimeformat-lithist_history", "shell.bash", 10, 0),
    ("bash/generated-bash5-plain-lithist_history", "shell.bash", 14, 0),
    ("bash/histutils-sh_history", "shell.bash", 16, 0),
    ("bash/plaso-bash_history", "shell.bash", 4, 0),
    ("bash/plaso-bash_history_desync", "shell.bash", 5, 0),
    ("zsh/generated-zsh5.9-extended-history-metafied", "shell.zsh", 11, 0),
    ("zsh/histutils-zsh_bad_history", "shell.zsh", 4, 1),
    ("zsh/histutils-zsh_common_history", "shell.zsh", 12, 0),
    ("zsh/histutils-zsh_duration_history", "shell.zsh", 11, 0),
    ("zsh/plaso-zsh_extended_history.txt", "shell.zsh", 4, 0),
    ("fish/generated-fish3.6-fish_history", "shell.fish", 9, 0),
    ("fish/histutils-fish_common_history", "shell.fish", 12, 0),
    ("fish/histutils-fish_paths_history", "shell.fish", 16, 0),
    ("fish/plaso-fish_history", "shell.fish", 10, 0),
    ("atuin/generated-atuin-history-schema-sample.db", "shell.atuin", 4, 0),
    ("powershell/psprofiles-ConsoleHost_history.txt", "shell.powershell", 165, 0),
    ("powershell/plaso-powershell_transcript.txt", "shell.powershell_transcript", 1, 0),
]


@pytest.mark.parametrize(("name", "collector", "n_events", "n_quarantined"), CORPUS)
def test_every_shell_corpus_file(corpus, name, collector, n_events, n_quarantined):
    sniffed, outputs = collect_file(corpus / name)
    assert sniffed == collector
    events = events_of(outputs)
    assert (len(events), len(outputs) - len(events)) == (n_events, n_quarantined)
    assert len({e["event_id"] for e in events}) == n_events
    assert all(e["kind"] == "process" and e["command"] for e in events)


def test_bash_timestamps_group_multiline_entries(corpus):
    _, out = collect_file(corpus / "bash/generated-bash5-histtimeformat-lithist_history")
    commands = [e["command"] for e in out]
    assert 'for f in a b; do\n  echo "$f"\ndone' in commands
    assert "cat <<'HERE'\nline one\nHERE\n" in commands  # the heredoc's trailing empty line
    assert "#not-a-timestamp comment line typed by user" in commands
    assert all(e["time"].timestamp() == 1795317853 and e["time_precision"] == "s" for e in out)
    _, plaso = collect_file(corpus / "bash/plaso-bash_history")
    assert (
        plaso[3]["command"] == 'binary argument1 "--params=\\\nparam1=foo,\nparam2=bar\n" argument2'
    )


def test_bash_without_timestamps_keeps_order_and_says_so(corpus):
    _, out = collect_file(corpus / "bash/generated-bash5-plain-lithist_history")
    assert all(e["time"] is None and e["time_precision"] == "none" for e in out)
    assert [e["seq"] for e in out] == sorted(e["seq"] for e in out)
    assert out[2]["command"] == "for f in a b; do"  # indistinguishable without timestamps
    _, desync = collect_file(corpus / "bash/plaso-bash_history_desync")
    assert desync[0]["command"] == "/sbin/reboot" and desync[0]["time"] is None
    assert desync[1]["time"].timestamp() == 1380630977


def test_bash_hash_digits_is_a_command_when_the_file_has_no_timestamps():
    events = collect("shell.bash", b"ls\n#12345\n")
    # every `#digits` line makes the file timestamped, so here `ls` stands before the first
    assert [e["command"] for e in events] == ["ls"]
    events = collect("shell.bash", b"#1700000000\n#comment\n")
    assert [e["command"] for e in events] == ["#comment"]


@pytest.mark.parametrize(
    ("collector", "data"),
    [
        ("shell.bash", b"echo \xff\xfe\n"),
        ("shell.fish", b"- cmd: echo \xff\xfe\n  when: 1\n"),
        ("shell.powershell", b"echo \xff\xfe\r\n"),
        ("shell.zsh", b": 1:0;echo \xff\xfe\n"),
    ],
)
def test_invalid_utf8_is_kept_losslessly_in_raw(collector, data):
    (event,) = collect(collector, data)
    assert "\ufffd" in event["command"]
    raw = json.loads(event["raw"])
    command = raw.get("command", raw.get("cmd"))
    assert command.encode("utf-8", "surrogateescape") == b"echo \xff\xfe"


def _metafy(data: bytes) -> bytes:
    """zsh's writer (Src/utils.c metafy): 0x00 and 0x83..0xA2 become 0x83, byte ^ 0x20."""
    return b"".join(
        bytes((0x83, b ^ 0x20)) if b == 0 or 0x83 <= b <= 0xA2 else bytes((b,)) for b in data
    )


def _zsh_write(start: int, elapsed: int, command: str) -> bytes:
    """zsh 5.9 savehistfile for one entry (EXTENDED_HISTORY)."""
    body = _metafy(command.encode("utf-8", "surrogateescape")).replace(b"\n", b"\\\n")
    if body.rstrip(b" ").endswith(b"\\"):
        body += b" "  # so the reader does not take the trailing backslash as a continuation
    return b": %d:%d;%s\n" % (start, elapsed, body)


def test_zsh_metafied_file_round_trips_its_commands_byte_exactly(corpus):
    data = (corpus / "zsh/generated-zsh5.9-extended-history-metafied").read_bytes()
    events = collect("shell.zsh", data)
    rebuilt = b"".join(
        _zsh_write(raw["start"], raw["elapsed"], raw["command"])
        for raw in (json.loads(e["raw"]) for e in events)
    )
    assert rebuilt == data
    commands = [e["command"] for e in events]
    assert "echo 'straße Ärger 検索 ✓ naïve'" in commands
    assert 'for f in a b; do\n  echo "$f"\ndone' in commands
    assert "echo ends-with-backslash \\\\" in commands  # the writer's extra space dropped


def test_zsh_continuation_that_looks_like_a_header_and_malformed_headers(corpus):
    events = events_of(
        collect("shell.zsh", (corpus / "zsh/histutils-zsh_common_history").read_bytes())
    )
    assert "echo foo\\\n: 42:0;echo bar" in [e["command"] for e in events]
    assert "\n" in [e["command"] for e in events]  # `\` + empty line: one newline
    bad = collect("shell.zsh", (corpus / "zsh/histutils-zsh_bad_history").read_bytes())
    by_command = {e["command"]: e for e in events_of(bad)}
    assert by_command["bad timestamp"]["time"] is None  # `: -1:0;`
    assert by_command["bad header space"]["time"].timestamp() == 13  # `:13:0;` parses
    assert json.loads(by_command["bad duration"]["raw"])["elapsed"] == -1
    (empty,) = [o for o in bad if not isinstance(o, dict)]
    assert empty.reason == "history header with no command" and empty.line == 2


def test_zsh_plain_history_unescapes_a_leading_colon():
    events = collect("shell.zsh", b"\\: not a header\nls\n")
    assert [e["command"] for e in events] == [": not a header", "ls"]
    assert not _HEADER.match(b"\\: 1:0;x")


def test_fish_escapes_paths_and_missing_when(corpus):
    _, out = collect_file(corpus / "fish/generated-fish3.6-fish_history")
    by_command = {e["command"]: e for e in out}
    assert "for f in a b\necho $f\nend" in by_command
    assert "echo back\\\\slash" in by_command  # `\\\\` in the file is two backslashes
    assert by_command["ls /tmp/gen"]["paths"] == ["/tmp/gen"]
    _, paths = collect_file(corpus / "fish/histutils-fish_paths_history")
    assert paths[12]["paths"] == ["/bin/", "/sbin"]
    assert paths[-1]["command"] == "cat 'foo \\ bar.txt'"
    _, plaso = collect_file(corpus / "fish/plaso-fish_history")
    assert plaso[5]["command"] == "rm -rf test" and plaso[5]["paths"] == ["test"]
    assert plaso[5]["time"].timestamp() == 1619736858


def test_fish_three_space_indentation_and_a_stray_line():
    data = b"- cmd: ls\n   when: 5\n   paths:\n     - /x\ngarbage\n- cmd: pwd\n"
    out = collect("shell.fish", data)
    events = events_of(out)
    assert [(e["command"], e["paths"]) for e in events] == [("ls", ["/x"]), ("pwd", None)]
    assert events[0]["time"].timestamp() == 5 and events[1]["time_precision"] == "none"
    (stray,) = [o for o in out if not isinstance(o, dict)]
    assert stray.line == 5 and stray.raw == b"garbage"


def test_atuin_reads_agent_rows_read_only(corpus, tmp_path):
    db = tmp_path / "history.db"
    shutil.copy(corpus / "atuin/generated-atuin-history-schema-sample.db", db)
    db.chmod(0o444)  # read-only file: a write would fail
    before = db.read_bytes()
    _, out = collect_file(db)
    assert db.read_bytes() == before
    first, read_env, curl, deleted = out
    assert (first["agent"], first["exit_code"], first["status"]) == ("human", 0, "success")
    assert (read_env["agent"], read_env["text"]) == ("claude-code", "inspect staging credentials")
    assert curl["agent"] == "claude-code" and "volumeDelete" in curl["command"]
    assert curl["session_id"] == "018f0000000070008000000000000a02"
    assert (curl["cwd"], curl["host"], curl["os_user"]) == ("/home/dev/app", "devbox", "dev")
    assert curl["time"].timestamp() == 1777000009
    assert json.loads(curl["raw"])["timestamp"] == 1777000009000000000  # ns kept in raw
    assert (deleted["exit_code"], deleted["status"], deleted["agent"]) == (
        None,
        "unknown",
        "unknown",
    )
    assert json.loads(deleted["raw"])["deleted_at"] == 1777000030000000000


def test_atuin_database_without_the_author_columns(tmp_path):
    db = tmp_path / "atuin-old.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE history (id text primary key, timestamp integer, duration integer, "
        "exit integer, command text, cwd text, session text, hostname text, deleted_at integer)"
    )
    con.execute(
        "INSERT INTO history VALUES ('a', 1700000000123456789, 5, 2, 'make', '/p', 's', 'h:u', NULL)"
    )
    con.commit()
    con.close()
    (event,) = collect_file(db)[1]
    assert (event["command"], event["exit_code"], event["status"]) == ("make", 2, "failure")
    assert event["time"].microsecond == 123456


def test_powershell_backticks_crlf_and_bom():
    data = b"\xef\xbb\xbfGet-ChildItem `\r\n  -Recurse `\r\n  -Force\r\n\r\nRemove-Item -Recurse C:\\tmp\\x\r\n"
    events = collect("shell.powershell", data)
    assert [e["command"] for e in events] == [
        "Get-ChildItem \n  -Recurse \n  -Force",
        "Remove-Item -Recurse C:\\tmp\\x",
    ]
    assert events[1]["seq"] == 5 and events[0]["time_precision"] == "none"


def test_powershell_transcript_header(corpus):
    _, (event,) = collect_file(corpus / "powershell/plaso-powershell_transcript.txt")
    assert (event["command"], event["cwd"]) == ("whoami", "C:\\Windows\\system32")
    assert (event["host"], event["os_user"]) == ("MSEDGEWIN10", "MSEDGEWIN10\\IEUser")


@pytest.mark.parametrize(
    ("name", "first", "appended"),
    [
        ("bash_history", b"#1700000000\nls\n#1700000001\nls\n", b"#1700000002\nls\n"),
        ("zsh_history", b": 1:0;ls\n: 2:0;ls\n", b": 3:0;ls\n"),
        ("fish_history", b"- cmd: ls\n  when: 1\n", b"- cmd: ls\n  when: 1\n"),
        ("ConsoleHost_history.txt", b"ls\nls\n", b"ls\n"),
        ("plain_bash_history", b"ls\nls\n", b"ls\n"),
    ],
)
def test_incremental_append_is_exactly_once(store, redactor, tmp_path, name, first, appended):
    path = tmp_path / name
    path.write_bytes(first)
    old = time.time() - 3600
    os.utime(path, (old, old))
    n_first = len(re.findall(rb"ls", first))
    assert ingest_paths(store, [path], redactor=redactor).ingested == n_first
    assert ingest_paths(store, [path], redactor=redactor).files[0].status == "unchanged"
    with path.open("ab") as fh:
        fh.write(appended)
    os.utime(path, (old, old))
    report = ingest_paths(store, [path], redactor=redactor)
    assert (report.ingested, report.duplicate) == (1, 0)  # the repeated `ls` is a new command
    assert store.count("events") == n_first + 1


def test_untimed_commands_are_per_file_and_timed_copies_dedupe(store, redactor, tmp_path):
    folder = tmp_path / "histories"
    folder.mkdir()
    for host in ("a", "b"):
        (folder / f"{host}_bash_history").write_bytes(b"ls\n")
        (folder / f"{host}_zsh_history").write_bytes(b": 1700000000:0;ls\n")
    old = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (old, old))
    report = ingest_paths(store, sorted(folder.iterdir()), redactor=redactor)
    by_file = {Path(f.path).name: (f.source, f.ingested, f.duplicate) for f in report.files}
    assert by_file == {
        "a_bash_history": ("shell.bash", 1, 0),
        "b_bash_history": ("shell.bash", 1, 0),  # two machines' `ls`: two commands
        "a_zsh_history": ("shell.zsh", 1, 0),
        "b_zsh_history": ("shell.zsh", 0, 1),  # same command, same second: a copy
    }
