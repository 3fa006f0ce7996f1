"""A real HTTP receiver that records what it is sent (demo and tests), with a fault script.

Loopback by default; bound elsewhere it requires `Authorization: Bearer <token>`. Bodies over
`max_body` get 413, a client slower than `timeout` per read gets 408 and its socket closed, so
no thread or socket outlives its timeout. A test scripts the receiver's behaviour per request
(`Fault`: a status, a delay before answering (after the request was taken), or a dropped
connection); a request repeating an already accepted idempotency key is answered 200 and
counted once (`pages()`), as a receiver honouring `Idempotency-Key` would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentaudit.listener import TIMEOUT_SECONDS, BoundedHandler, check_exposure

MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Fault:
    """What the receiver does with one request: answer `status` after `delay` seconds (the
    request is taken first, as a slow receiver does), or `drop` the connection unanswered."""

    status: int = 200
    delay: float = 0.0
    drop: bool = False


def idempotency_header(request: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return headers.get("idempotency-key")


class LocalReceiver:
    """`with LocalReceiver() as rx:` then post to `rx.url`; bodies land in `rx.received`."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        port: int = 0,
        *,
        faults: list[Fault] | None = None,
        host: str = "127.0.0.1",
        token: str | None = None,
        max_body: int = MAX_BODY,
        timeout: float = TIMEOUT_SECONDS,
        dedup_key: Callable[[dict[str, Any]], str | None] = idempotency_header,
        reply: Callable[[dict[str, Any]], bytes] | None = None,
        ok_status: int = 200,
    ) -> None:
        check_exposure(host, token, "a receiver")
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # each body as sent (protobuf, gzip), in `received` order
        self._faults = [Fault(s) for s in statuses or []] + list(faults or [])
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._dedup_key = dedup_key
        self._reply = reply
        self._ok = Fault(ok_status)  # what a request gets once the script has run out
        receiver = self

        class Handler(BoundedHandler):
            def do_POST(self) -> None:
                if not self.authorized():
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return self.answer(400)
                if length < 0:
                    return self.answer(400)
                if length > max_body:
                    return self.answer(413)
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    return self.answer(408)
                if len(body) < length:  # the client closed before sending it all
                    self.close_connection = True
                    return
                receiver._take(self, body)

            def do_GET(self) -> None:
                self.answer(405)

        Handler.timeout, Handler.token = timeout, token
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _take(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else self._ok
        if fault.drop:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        request = {
            "path": handler.path,
            "headers": dict(handler.headers),
            "body": parsed,
            "status": fault.status,
            "received_monotonic": time.monotonic(),  # for latency measurements
            "duplicate": False,
        }
        with self._lock:
            key = self._dedup_key(request) if 200 <= fault.status < 300 else None
            request["duplicate"] = key is not None and key in self._seen
            if key is not None:
                self._seen.add(key)
            self.raw.append(body)
            self.received.append(request)
        if fault.delay:
            time.sleep(fault.delay)
        answer = self._reply(request) if self._reply else b""
        try:
            handler.send_response(fault.status)
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer)
        except OSError:  # the client gave up waiting (a slow receiver's late answer)
            handler.close_connection = True

    def script(self, faults: list[Fault]) -> None:
        """Replace what the next requests get (the rest are answered `ok_status`)."""
        with self._lock:
            self._faults = list(faults)

    def accepted(self) -> list[dict[str, Any]]:
        """Requests answered with a 2xx: what the receiver actually took delivery of."""
        return [r for r in self.received if 200 <= r["status"] < 300]

    def pages(self) -> list[dict[str, Any]]:
        """Accepted requests counted once per idempotency key (a retry of a taken page is not
        a second page)."""
        return [r for r in self.accepted() if not r["duplicate"]]

    def url(self, scheme: str = "json", path: str = "/alerts") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LocalReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
