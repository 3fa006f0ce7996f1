"""The resident guard helper: a unix socket answering hook processes in a few milliseconds.

Hook processes are short-lived and Python's start-up plus the analysis imports cost a few
hundred milliseconds; the helper keeps them loaded (and, inside `watch`, the store open).
Protocol: the client sends `{"agent": ..., "payload": <hook stdin as text>}` and closes its
write side; the helper answers `{"decision", "reason", "stdout"}`. The socket is mode 0600.
"""

from __future__ import annotations

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


class _Handler(socketserver.StreamRequestHandler):
    server: GuardServer

    def handle(self) -> None:
        data = self.rfile.read(MAX_REQUEST)
        try:
            request = json.loads(data)
            stdout, decision = self.server.guard.handle(request["agent"], request["payload"])
            answer = {"decision": decision.decision, "reason": decision.reason, "stdout": stdout}
        except Exception as exc:  # the client turns this into "ask"
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        self.wfile.write(json.dumps(answer).encode("utf-8"))
        self.server.decisions += 1


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
