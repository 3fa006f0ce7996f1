"""`agentaudit watch` as a real subprocess pages `source-silent` for the source that stops
(zsh history) within its quiet period, and never for the one that keeps reporting (bash
history), whose lines go on arriving on the same machine. The page goes to a real HTTP
receiver on 127.0.0.1 (agentaudit/receiver.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from agentaudit.realtime.watch.harness import WatchProcess, free_port, wait_for, write_config
from agentaudit.receiver import LocalReceiver

QUIET_SECONDS = 6


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def zsh_line(n: int) -> str:
    return f": {int(time.time())}:0;echo zsh {n}\n"


def bash_line(n: int) -> str:
    return f"#{int(time.time())}\necho bash {n}\n"


def silent_pages(receiver: LocalReceiver, source: str) -> list[dict]:
    return [r for r in receiver.received if f"{source} silent for" in r["body"]["title"]]


def test_watch_pages_the_source_that_stopped_and_not_the_one_that_reports(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "sources.yaml").write_text(
        f"quiet:\n  shell.zsh: {QUIET_SECONDS}s\n  shell.bash: {QUIET_SECONDS}s\n"
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    zsh, bash = logs / ".zsh_history", logs / ".bash_history"
    port = free_port()
    with LocalReceiver() as receiver:
        config = write_config(
            tmp_path / "watch.yaml",
            db=str(tmp_path / "watch.duckdb"),
            paths=[str(logs)],
            notify=[receiver.url()],
            health={"port": port},
            guard=None,
            hook_log=False,
            guard_log=False,
            poll_seconds=0.2,
            source_check_seconds=1,
        )
        env = {**os.environ, "AGENTAUDIT_HOME": str(home)}
        with WatchProcess(config, port, env) as watch:
            for n in range(6):  # both report for a few seconds
                append(zsh, zsh_line(n))
                append(bash, bash_line(n))
                time.sleep(0.5)
            stopped = time.monotonic()

            def keep_bash_reporting_until_zsh_pages() -> bool:
                append(bash, bash_line(int(time.monotonic() * 10)))
                return bool(silent_pages(receiver, "shell.zsh"))

            paged = wait_for(keep_bash_reporting_until_zsh_pages, 4 * QUIET_SECONDS, step=0.5)
            for n in range(4):  # a little longer: still no page for bash
                append(bash, bash_line(1000 + n))
                time.sleep(0.5)
            health = watch.health()
            assert watch.terminate() == 0
    log = watch.log.read_text()
    # paged within the quiet period after its deadline (last report + quiet), with one more
    # quiet period of slack for a loaded machine: the wait above gives up after that
    assert paged is not None, (time.monotonic() - stopped, log[-3000:])
    (page,) = silent_pages(receiver, "shell.zsh")
    assert "[HIGH]" in page["body"]["title"]
    assert silent_pages(receiver, "shell.bash") == []
    assert health is not None and health[1]["detector_failures"] == []
    assert "Traceback" not in log
