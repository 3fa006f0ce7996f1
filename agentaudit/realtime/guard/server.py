"""The resident guard helper: a unix socket answering hook processes in a few milliseconds.

Hook processes are short-lived and Python's start-up plus the analysis imports cost a few
hundred milliseconds; the helper keeps them loaded (and, inside `watch`, the store open).
Protocol: the client sends `{"agent": ..., "payload": <hook stdin as text>}` and closes its
write side; the helper answers `{"decision", "reason", "stdout"}`. The socket is mode 0600:
the file's permission is its token (only its owner can connect), and it never listens on a
network. A request over 1 MiB or not finished within `READ_TIMEOUT` seconds gets an error
answer (the client then asks the user) and its thread is freed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socketserver
import threading
from pathlib import Path

from agentaudit import paths
from agentaudit.realtime.guard.locations import default_socket_path
from agentaudit.realtime.guard.service import Guard

__all__ = ["GuardServer", "default_socket_path"]

MAX_REQUEST = 1 << 20
READ_TIMEOUT = 10.0  # seconds per read; a hook process sends its request at once


class _Handler(socketserver.StreamRequestHandler):
    server: GuardServer
    timeout = READ_TIMEOUT

    def handle(self) -> None:
        try:
            data = self.rfile.read(MAX_REQUEST + 1)
        except TimeoutError:
            return self._reply({"error": f"no complete request within {READ_TIMEOUT:g} s"})
        if len(data) > MAX_REQUEST:
            return self._reply({"error": f"request over {MAX_REQUEST} bytes"})
        try:
            request = json.loads(data)
            stdout, decision = self.server.guard.handle(request["agent"], request["payload"])
            answer = {"decision": decision.decision, "reason": decision.reason, "stdout": stdout}
        except Exception as exc:  # the client turns this into "ask"
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        self._reply(answer)
        self.server.decisions += 1

    def _reply(self, answer: dict) -> None:
        with contextlib.suppress(OSError):  # the client gave up: nothing to tell it
            self.wfile.write(json.dumps(answer).encode("utf-8"))


class GuardServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, guard: Guard) -> None:
        self.guard = guard
        self.path = path
        self.decisions = 0
        if path.exists():
            path.unlink()  # a stale socket from a killed run
        paths.ensure_private_dir(path.parent)
        with paths.private_umask():
            super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self.serve_forever, name="guard", daemon=True)

    def start(self) -> GuardServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)
