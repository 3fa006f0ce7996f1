"""Issue 23's on-call test: while `watch` pages the PocketOS replay (and while `serve`
receives), every command the page tells on-call to run succeeds from another process with
the output a one-shot store built from the same files gives, and the dashboard renders.

Real subprocesses of the CLI, a real `watch` and `serve`, a real HTTP receiver on 127.0.0.1.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentaudit.realtime.watch.harness import (
    GIVE_UP_SECONDS,
    WatchProcess,
    free_port,
    wait_for,
    write_config,
)
from agentaudit.realtime.watch.replay import SESSION, pocketos_records, replay
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_files
from agentaudit.store import lock

pytestmark = pytest.mark.slow  # watch and serve as subprocesses

CLI = [sys.executable, "-c", "from agentaudit.cli import main; main()"]
# what differs between two stores of the same files: when each row was written or sent
PROCESSING_TIMES = re.compile(
    r'"(created_at|updated_at|notified_at|ingested_at|acknowledged_at|last_activity_at|'
    r'next_flush_at|attempted_at|applied_at)": "[^"]*"'
)


def run_cli(*args: str, db: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # a short lock timeout: a command that did not go through the owner fails fast
    env = {**os.environ, lock.TIMEOUT_ENV: "2", "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=GIVE_UP_SECONDS,
        env=env,
        input=stdin,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def same_output(args: list[str], owned: Path, reference: Path) -> str:
    """The command's output on the owned store, checked equal to the one-shot store's."""
    got, want = ok(run_cli(*args, db=owned)), ok(run_cli(*args, db=reference))
    got, want = PROCESSING_TIMES.sub("", got), PROCESSING_TIMES.sub("", want)
    diff = difflib.unified_diff(
        want.splitlines(), got.splitlines(), "one-shot", "owned", lineterm=""
    )
    assert got == want, "\n".join([shlex.join(args), *diff])
    return got


def page_commands(receiver: LocalReceiver) -> dict[str, list[str]]:
    """The commands the first page tells on-call to run (agentaudit/alert/message.py)."""
    pages = [r["body"]["message"] for r in receiver.received]
    body = next(page for page in pages if "\nAcknowledge: " in page)
    found = {}
    for label in ("Full timeline", "Acknowledge", "Mute"):
        line = next(line for line in body.splitlines() if line.startswith(label + ": "))
        words = shlex.split(line.split(": ", 1)[1])
        assert words[0] == "agentaudit"
        found[label] = words[1:]
    return found


def one_shot_store(tmp_path: Path, files: list[Path]) -> Path:
    """A store that read the same files once and detected: what `watch` must match."""
    reference = tmp_path / "oneshot.duckdb"
    ok(run_cli("ingest", *map(str, files), "--json", db=reference))
    ok(run_cli("detect", "--json", db=reference))
    return reference


def check_the_page_commands(owned: Path, reference: Path, commands: dict[str, list[str]]):
    """Every command of the page, then `incidents show` and `query`, owned vs one-shot."""
    assert commands["Full timeline"][:2] == ["timeline", "--session"]
    same_output(commands["Full timeline"], owned, reference)
    same_output([*commands["Full timeline"], "--json"], owned, reference)
    alert_id = commands["Acknowledge"][-1]
    same_output(["incidents", "show", alert_id], owned, reference)
    same_output(["incidents", "show", alert_id, "--json"], owned, reference)
    findings = "SELECT rule_id, session_id, severity, title, first_seen FROM findings ORDER BY ALL"
    same_output(["query", findings], owned, reference)
    same_output(["query", findings, "--json"], owned, reference)
    # the writes: the same answer, and what they wrote is in the owner's store
    same_output([*commands["Acknowledge"], "--by", "oncall"], owned, reference)
    mute = [w.replace("...", "deploy in progress") for w in commands["Mute"]]
    silenced = ok(run_cli(*mute, "--by", "oncall", db=owned))
    assert re.fullmatch(r"silence \S+ until \S+\n", silenced), silenced
    listed = json.loads(ok(run_cli("silence", "list", "--json", db=owned)))
    assert [s["comment"] for s in listed] == ["deploy in progress"]
    acked = json.loads(ok(run_cli("alert", "list", "--json", db=owned)))
    assert {a["alert_id"]: a["acknowledged_by"] for a in acked}[alert_id] == "oncall"


def render_dashboard(db: Path, monkeypatch) -> None:
    pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
    from streamlit.testing.v1 import AppTest

    screens = Path(__file__).resolve().parents[1] / "dashboards" / "screens"
    monkeypatch.setenv("AGENTAUDIT_DB", str(db))
    for page in ("incidents", "sql"):
        app = AppTest.from_file(str(screens / f"{page}.py"), default_timeout=60)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert not app.error, [e.value for e in app.error]
        assert app.table and len(app.table[0].value) > 0, page


def test_on_call_commands_while_watch_pages_the_pocketos_replay(tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    db = tmp_path / "watch.duckdb"
    port = free_port()
    with LocalReceiver() as receiver:
        config = write_config(
            tmp_path / "watch.yaml",
            db=str(db),
            paths=[str(logs)],
            notify=[receiver.url()],
            health={"port": port},
            poll_seconds=0.2,
            settle_seconds=1,
        )
        with WatchProcess(config, port) as watch:
            replay(logs, pocketos_records(), speed=8, max_gap=0.05)
            assert wait_for(lambda: receiver.received, timeout=GIVE_UP_SECONDS)
            assert wait_for(caught_up(watch), timeout=GIVE_UP_SECONDS)
            reference = one_shot_store(tmp_path, sorted(logs.iterdir()))
            check_the_page_commands(db, reference, page_commands(receiver))
            render_dashboard(db, monkeypatch)
            status, health = watch.health()
            assert status == 200 and health["status"] == "ok"
            assert lock.holder_path(db).exists()  # watch held the store throughout
        assert not db.with_name(db.name + ".owner").exists()  # removed at exit


def caught_up(watch: WatchProcess):
    """True once three passes in a row changed nothing /healthz counts."""
    seen: dict[str, object] = {}

    def quiet() -> bool:
        state = watch.health()[1]
        counts = (state["events_ingested"], state["findings"], state["alerts_delivered"])
        if counts != seen.get("counts"):
            seen.update(counts=counts, since=state["passes"])
            return False
        return state["passes"] >= seen["since"] + 3

    return quiet


def test_on_call_commands_while_serve_receives(tmp_path, monkeypatch):
    db = tmp_path / "serve.duckdb"
    port = free_port()
    serve = subprocess.Popen(
        [*CLI, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()
    answers: list[int] = []
    try:
        assert serve.stdout is not None
        assert "listening" in serve.stdout.readline()
        sender = threading.Thread(target=keep_sending, args=(port, stop, answers), daemon=True)
        sender.start()
        files = scenario_files("pocketos")
        # ingest and detect are queued into serve, which owns the store
        ingested = run_cli("ingest", *map(str, files), "--json", db=db)
        assert json.loads(ok(ingested))["ingested"] == 33
        reference = tmp_path / "oneshot.duckdb"
        ok(run_cli("ingest", *map(str, files), "--json", db=reference))
        same_output(["detect", "--json"], db, reference)
        alert_id = json.loads(ok(run_cli("alert", "list", "--json", db=db)))[0]["alert_id"]
        commands = {
            "Full timeline": ["timeline", "--session", SESSION],
            "Acknowledge": ["alert", "ack", alert_id],
            "Mute": ["silence", "add", "--match", "rule_id=destructive-burst", "--for", "2h",
                     "--comment", "..."],
        }  # fmt: skip
        check_the_page_commands(db, reference, commands)
        render_dashboard(db, monkeypatch)
        assert wait_for(lambda: len(answers) >= 3, timeout=GIVE_UP_SECONDS)
        assert set(answers) == {200}, answers  # serve kept receiving meanwhile
    finally:
        stop.set()
        serve.terminate()
        serve.wait(GIVE_UP_SECONDS)
    assert not db.with_name(db.name + ".owner").exists()


def keep_sending(port: int, stop: threading.Event, answers: list[int]) -> None:
    """OTLP/JSON log requests to serve, one every 0.2 s, until told to stop."""
    from tests.otlp_clients import post

    n = 0
    while not stop.is_set():
        n += 1
        record = {
            "timeUnixNano": str(1777060000_000000000 + n),
            "body": {"stringValue": "claude_code.user_prompt"},
            "attributes": [
                {"key": "event.name", "value": {"stringValue": "user_prompt"}},
                {"key": "session.id", "value": {"stringValue": "serve-receiving"}},
                {"key": "event.sequence", "value": {"intValue": str(n)}},
                {"key": "prompt_length", "value": {"intValue": "12"}},
            ],
        }
        body = {
            "resourceLogs": [
                {
                    "resource": {"attributes": [
                        {"key": "service.name", "value": {"stringValue": "claude-code"}}
                    ]},
                    "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"},
                                   "logRecords": [record]}],
                }
            ]
        }  # fmt: skip
        status, _, _ = post(
            "127.0.0.1",
            port,
            "/v1/logs",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        answers.append(status)
        time.sleep(0.2)
