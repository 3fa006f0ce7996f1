"""A real HTTP receiver that records what it is sent (demo and tests), with a fault script.

Loopback by default; bound elsewhere it requires `Authorization: Bearer <token>`. Bodies over
`max_body` get 413, a client slower than `timeout` per read gets 408 and its socket closed, so
no thread or socket outlives its timeout. A test scripts the receiver's behaviour per request
(`Fault`: a status, a delay before answering (after the request was taken), or a dropped
connection); a request repeating an already accepted idempotency key is answered 200 and
counted once (`pages()`), as a receiver honouring `Idempotency-Key` would.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20
TIMEOUT_SECONDS = 10.0


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


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


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
        if not is_loopback(host) and not token:
            raise ValueError(f"a receiver on {host} needs a token (loopback needs none)")
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # each body as sent (protobuf, gzip), in `received` order
        self._faults = [Fault(s) for s in statuses or []] + list(faults or [])
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._dedup_key = dedup_key
        self._reply = reply
        self._ok = Fault(ok_status)  # what a request gets once the script has run out
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                self.timeout = timeout  # applied to the socket by StreamRequestHandler
                super().setup()

            def do_POST(self) -> None:
                if token and not hmac.compare_digest(
                    self.headers.get("Authorization", ""), f"Bearer {token}"
                ):
                    return self._answer(401)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return self._answer(400)
                if length < 0:
                    return self._answer(400)
                if length > max_body:
                    return self._answer(413)
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    return self._answer(408)
                if len(body) < length:  # the client closed before sending it all
                    self.close_connection = True
                    return
                receiver._take(self, body)

            def do_GET(self) -> None:
                self._answer(405)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                if status >= 400:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()

            def log_error(self, format: str, *args: Any) -> None:
                # http.server swallows a timed-out request line after logging it: answer it
                if args and isinstance(args[0], TimeoutError):
                    with contextlib.suppress(OSError):
                        self.wfile.write(
                            b"HTTP/1.1 408 Request Timeout\r\n"
                            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                        )

            def log_message(self, *args: object) -> None:
                pass

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
