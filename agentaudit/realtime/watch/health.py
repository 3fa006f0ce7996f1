"""`GET /healthz` on 127.0.0.1: is the loop alive, and what has it done (JSON).

Loopback by default; on another address it needs `health: {token: ...}` and answers 401
without `Authorization: Bearer <token>`. Reads time out (408), bodies are refused (405, it
takes none), so a slow, idle or oversized client holds no thread past the timeout.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from agentaudit.listener import TIMEOUT_SECONDS, BoundedHandler, check_exposure


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        status: Callable[[], tuple[int, dict[str, Any]]],
        *,
        token: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ):
        check_exposure(host, token, "the health endpoint")

        class Handler(BoundedHandler):
            def do_GET(self) -> None:
                if not self.authorized():
                    return
                if self.path.split("?", 1)[0] not in ("/healthz", "/health"):
                    self.answer(404)
                    return
                code, body = status()
                data = json.dumps(body, default=str).encode("utf-8")
                self.answer(code, data, "application/json")

            def do_HEAD(self) -> None:
                self.do_GET()

            def refuse(self) -> None:
                self.answer(405)

            do_POST = do_PUT = do_DELETE = do_PATCH = refuse

        Handler.timeout, Handler.token = timeout, token
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
