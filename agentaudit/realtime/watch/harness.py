"""Run `agentaudit watch` as a real subprocess against a real receiver (tests and bench)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from agentaudit.testing import free_port  # noqa: F401 (tests and bench import it from here)

# When to give up waiting for the subprocess (start, /healthz, exit). A bound for a hang, not a
# speed: on a busy machine `watch` took more than 30 s to start (its imports and detectors).
GIVE_UP_SECONDS = 120.0


def write_config(path: Path, **settings: Any) -> Path:
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


class WatchProcess:
    """`with WatchProcess(config) as w:` starts watch and waits for /healthz to answer 200."""

    def __init__(self, config: Path, health_port: int, env: dict[str, str] | None = None):
        self.config = config
        self.health_port = health_port
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.with_suffix(".log")  # stderr of every run, appended

    def start(self, timeout: float = GIVE_UP_SECONDS) -> WatchProcess:
        code = "from agentaudit.cli import main; main()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "watch", "--config", str(self.config)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"watch exited early: {self.log.read_text()[-2000:]}")
            status = self.health()
            if status and status[0] == 200:
                return self
            time.sleep(0.05)
        self.proc.kill()  # not left running (and loading the machine) after a failed start
        self.proc.wait(10)
        raise TimeoutError("watch did not become healthy")

    def health(self) -> tuple[int, dict[str, Any]] | None:
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = GIVE_UP_SECONDS) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def __enter__(self) -> WatchProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()


def wait_for(predicate, timeout: float, step: float = 0.005) -> float | None:
    """Poll until predicate() is true; the monotonic time it became true, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(step)
    return None
