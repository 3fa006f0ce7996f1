"""A real HTTP receiver on 127.0.0.1 that records what it is sent (demo and tests)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalReceiver:
    """`with LocalReceiver() as rx:` then post to `rx.url`; bodies land in `rx.received`."""

    def __init__(self, statuses: list[int] | None = None, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # each body as sent (protobuf, gzip), in `received` order
        self._statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._statuses.pop(0) if receiver._statuses else 200
                try:
                    parsed: Any = json.loads(body)
                except ValueError:
                    parsed = body.decode("utf-8", "replace")
                receiver.raw.append(body)
                receiver.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": parsed,
                        "status": status,
                        "received_monotonic": time.monotonic(),  # for latency measurements
                    }
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def accepted(self) -> list[dict[str, Any]]:
        """Requests answered with a 2xx: what the receiver actually took delivery of."""
        return [r for r in self.received if 200 <= r["status"] < 300]

    def url(self, scheme: str = "json", path: str = "/alerts") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LocalReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
