"""`watch` never stalls on a line: after a poisoned line (a zsh timestamp out of range, a
transcript line ending in half an emoji) the lines written later are stored. A real `watch`
subprocess tailing real files; the store is read after it stopped."""

from __future__ import annotations

import json
import time

from agentaudit.realtime.watch.harness import WatchProcess, free_port, wait_for, write_config
from agentaudit.store import Store


def _transcript_line(n: int, command: str) -> bytes:
    use = {"type": "tool_use", "id": f"toolu_{n}", "name": "Bash", "input": {"command": command}}
    record = {
        "type": "assistant",
        "sessionId": "s-poison",
        "uuid": f"u{n}",
        "parentUuid": f"u{n - 1}" if n else None,
        "timestamp": f"2026-04-24T19:00:{n:02d}.000Z",
        "cwd": "/home/dev/shop",
        "message": {"role": "assistant", "content": [use]},
    }
    return json.dumps(record).encode()


def _health(watch: WatchProcess) -> dict:
    """/healthz's body, or {} while it does not answer (a busy machine: a read timed out)."""
    try:
        answer = watch.health()
    except OSError:
        return {}
    return answer[1] if answer else {}


def _append(path, *lines: bytes) -> None:
    with path.open("ab") as out:
        out.write(b"".join(line + b"\n" for line in lines))


def test_watch_stores_what_is_written_after_a_poisoned_line(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    zsh, transcript = logs / ".zsh_history", logs / "s-poison.jsonl"
    _append(zsh, b": 1714000000:0;ls -la")
    _append(transcript, _transcript_line(0, "git status"))
    port = free_port()
    config = write_config(
        tmp_path / "watch.yaml",
        db=str(tmp_path / "watch.duckdb"),
        paths=[str(logs)],
        health={"port": port},
        guard={"socket": str(tmp_path / "g.sock")},
        poll_seconds=0.2,
        settle_seconds=1,
    )
    watch = WatchProcess(config, port).start(timeout=120)  # its start is slow on a busy machine
    try:
        assert wait_for(
            lambda: _health(watch).get("events_ingested", 0) >= 2, timeout=120, step=0.2
        )
        half_emoji = _transcript_line(1, "echo done \U0001f525").split(b"\\ud83d")[0] + b"\\ud83d"
        _append(zsh, b": 300000000000:0;x")
        _append(transcript, half_emoji)
        time.sleep(1.0)  # a poll or two on the poisoned lines alone
        _append(zsh, b": 1714000002:0;rm -rf ./build")
        _append(transcript, _transcript_line(2, "terraform destroy -auto-approve"))
        stored = wait_for(
            lambda: _health(watch).get("events_ingested", 0) >= 5, timeout=120, step=0.2
        )
        health = _health(watch)
    finally:
        watch.terminate(timeout=300)  # its last detection pass is slow on a busy machine
    assert stored is not None, (health, watch.log.read_text()[-3000:])
    assert health.get("quarantined", 1) >= 1
    with Store.open(tmp_path / "watch.duckdb", read_only=True) as store:
        commands = {r["command"] for r in store.rows("SELECT command FROM events")}
        quarantined = store.rows("SELECT source_path, line FROM quarantine")
    assert {"rm -rf ./build", "terraform destroy -auto-approve"} <= commands
    assert (str(transcript), 2) in {(q["source_path"], q["line"]) for q in quarantined}
