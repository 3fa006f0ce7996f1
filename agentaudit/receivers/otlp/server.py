"""`agentaudit serve`'s HTTP layer: OTLP/HTTP (`/v1/logs`, `/v1/metrics`, `/v1/traces`) on
uvicorn and starlette (the `otlp` extra).

uvicorn parses HTTP (chunked bodies included, as the OpenTelemetry JS exporter sends them);
starlette routes. Every request gets an answer with an OTLP error body (`google.rpc.Status`)
when it is refused: 400 malformed (HTTP or OTLP), 401 without the bearer token, 404/405,
408 when its head or body does not arrive within `request_timeout`, 413 oversized (also
after decompression), 415 unsupported type or encoding. An idle connection is closed after
`idle_timeout`. Requests are decoded and stored one at a time by one worker thread (one
DuckDB connection has one writer); the event loop only moves bytes, so slow or idle clients
hold no thread. It listens on 127.0.0.1 unless told otherwise, and refuses to listen
elsewhere without a bearer token.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn import Config, Server
from uvicorn.protocols.http.h11_impl import H11Protocol

from agentaudit.collectors.base import Collector
from agentaudit.collectors.otlp import SIGNALS
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.receivers.otlp.codec import (
    MAX_BODY_BYTES,
    RequestError,
    decode,
    error_reply,
    reply_json,
)
from agentaudit.receivers.otlp.ingest import OtlpResult, spool_request, store_request
from agentaudit.store import Store

log = logging.getLogger(__name__)
MAX_HEAD_BYTES = 32 * 1024  # request line and headers
_REASONS = {400: "Bad Request", 408: "Request Timeout"}


@dataclass
class ReceiverStats:
    requests: int = 0  # requests answered 200
    records: int = 0
    stored: int = 0
    rejected_records: int = 0
    rejected_requests: dict[int, int] = field(default_factory=dict)  # status -> count


class OtlpReceiver:
    """`with OtlpReceiver(store) as rx:` serves on rx.host:rx.port until the block ends."""

    def __init__(
        self,
        store: Store | None,
        host: str = "127.0.0.1",
        port: int = 4318,
        token: str | None = None,
        redactor: Redactor | None = None,
        max_body: int = MAX_BODY_BYTES,
        spool_dir: Path | None = None,
        request_timeout: float = 30.0,
        idle_timeout: float = 15.0,
        max_connections: int = 1000,
        max_pending: int = 32,
        collectors: Mapping[str, Collector] | None = None,
    ) -> None:
        if not _is_loopback(host) and not token:
            raise ValueError(
                f"refusing to listen on {host} without a bearer token (set --token / AGENTAUDIT_OTLP_TOKEN)"
            )
        if store is None and spool_dir is None:
            raise ValueError("give a store, or a spool directory")
        self.store = store
        # Spool mode: requests are appended as lines for a later `ingest` (collector
        # `otlp.spool`), so the receiver does not hold the DuckDB file's write lock.
        self.spool_dir = spool_dir
        self.token = token
        self.redactor = redactor or redactor_for()
        self.max_body = max_body
        self.request_timeout = request_timeout
        # requests read or waiting for the worker: beyond this, 503 (exporters retry), so
        # memory stays within max_pending x max_body however many clients send at once
        self.max_pending = max_pending
        self.pending = 0
        self.collectors = collectors
        self.stats = ReceiverStats()
        self._stats_lock = threading.Lock()
        # held while a request is stored; the store's owner API runs other processes'
        # commands (ack, silence, ingest) under it
        self.writing = threading.RLock()
        self.owner: Any = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-ingest")
        self._socket = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        self.host, self.port = self._socket.getsockname()[:2]
        protocol = type("OtlpH11Protocol", (_OtlpProtocol,), {"head_timeout": request_timeout})
        config = Config(
            build_app(self),
            http=protocol,
            loop="asyncio",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=max(1, round(idle_timeout)),
            timeout_graceful_shutdown=max(1, round(request_timeout)),
            limit_concurrency=max_connections,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
        self._server = Server(config)
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The logs endpoint (what most clients are given)."""
        return self.endpoint("logs")

    def endpoint(self, signal: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1/{signal}"

    # -- the work of one request, on the worker thread --------------------------------------

    def handle(
        self, signal: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        """(status, content type, body) of the reply to one POST of `signal`."""
        as_json = reply_json(headers.get("content-type"))
        try:
            request = decode(
                signal,
                body,
                headers.get("content-type"),
                headers.get("content-encoding"),
                self.max_body,
            )
        except RequestError as exc:
            self.count_refusal(exc.status)
            return exc.status, *error_reply(exc.status, exc.message, as_json)
        if self.spool_dir is not None:
            result = spool_request(self.spool_dir, request, self.collectors, self.redactor)
        else:
            assert self.store is not None
            with self.writing:
                result = store_request(self.store, request, self.redactor, self.collectors)
        self._count(result)
        return 200, *result.reply(as_json)

    def _count(self, result: OtlpResult) -> None:
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.records += result.records
            self.stats.stored += result.stored
            self.stats.rejected_records += result.rejected

    def count_refusal(self, status: int) -> None:
        with self._stats_lock:
            self.stats.rejected_requests[status] = self.stats.rejected_requests.get(status, 0) + 1

    def authorized(self, header: str | None) -> bool:
        if not self.token:
            return True
        sent = (header or "").encode("latin-1", "replace")
        return hmac.compare_digest(sent, f"Bearer {self.token}".encode())

    async def run_on_worker(
        self, signal: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.handle, signal, headers, body)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> OtlpReceiver:
        if self.store is not None and self.store.path is not None:
            from agentaudit.owner.server import OwnerServer

            self.owner = OwnerServer(
                self.store, command="agentaudit serve", writing=self.writing
            ).start()
        self._thread = threading.Thread(target=self._run, name="otlp-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                why = f": {self._failure}" if self._failure else ""
                raise OSError(f"the OTLP receiver did not start on {self.host}:{self.port}{why}")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # reported by start() as one line
            self._failure = exc

    def serve_forever(self) -> None:
        """Serve until `close()` (from a signal handler or another thread)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.5)

    def close(self) -> None:
        """Stop accepting, finish the requests under way, then stop the worker."""
        if self.owner is not None:  # from here on, commands open the store (and wait for it)
            self.owner.stop()
            self.owner = None
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(60)
        else:
            self._socket.close()
        self._worker.shutdown(wait=True)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_app(receiver: OtlpReceiver) -> Starlette:
    """The ASGI app: POST /v1/{logs,metrics,traces}; every refusal with an OTLP Status body."""

    async def export(request: Request) -> Response:
        signal = request.url.path.rsplit("/", 1)[-1]
        as_json = reply_json(request.headers.get("content-type"))
        if not receiver.authorized(request.headers.get("authorization")):
            return refuse(RequestError(401, "missing or wrong bearer token"), as_json)
        if receiver.pending >= receiver.max_pending:
            busy = RequestError(503, f"{receiver.pending} requests are being stored; retry")
            return refuse(busy, as_json, {"retry-after": "1"})
        receiver.pending += 1  # on the event loop: no lock needed
        try:
            body = await _read_body(request, receiver.max_body, receiver.request_timeout)
            status, content_type, payload = await receiver.run_on_worker(
                signal, request.headers, body
            )
        except RequestError as exc:
            return refuse(exc, as_json)
        except ClientDisconnect:  # nobody left to answer
            return Response(status_code=400)
        except Exception as exc:  # a bug, not bad data: answer 500, log one line, go on
            log.error("OTLP request failed: %s: %s", type(exc).__name__, exc)
            message = f"internal error ({type(exc).__name__}); the request was not stored"
            return refuse(RequestError(500, message), as_json)
        finally:
            receiver.pending -= 1
        return _reply(status, content_type, payload)

    def refuse(exc: RequestError, as_json: bool, headers: dict[str, str] | None = None) -> Response:
        receiver.count_refusal(exc.status)
        content_type, body = error_reply(exc.status, exc.message, as_json)
        return _reply(exc.status, content_type, body, close=True, headers=headers)

    async def refused(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        receiver.count_refusal(status)
        message = {
            404: f"no such endpoint {request.url.path}: POST /v1/logs, /v1/metrics or /v1/traces",
            405: f"{request.method} is not allowed: POST OTLP requests",
        }.get(status, "internal error")
        return _reply(
            status,
            *error_reply(status, message, reply_json(request.headers.get("content-type"))),
            close=True,
        )

    routes = [Route(f"/v1/{signal}", export, methods=["POST"]) for signal in SIGNALS]
    return Starlette(routes=routes, exception_handlers={404: refused, 405: refused})


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {declared} bytes exceeds {limit}")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise RequestError(413, f"body exceeds {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, f"body not received within {timeout:g} s") from None
    return b"".join(chunks)


def _reply(
    status: int,
    content_type: str,
    body: bytes,
    close: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    # close when the request body may be partly unread: the connection cannot be reused
    headers = {**(headers or {}), **({"connection": "close"} if close else {})}
    return Response(body, status_code=status, media_type=content_type, headers=headers)


class _OtlpProtocol(H11Protocol):
    """uvicorn's h11 protocol, plus: a request head must arrive within `head_timeout` of the
    connection (or of the previous response), else 408 (or, with nothing sent, the
    connection is closed); a malformed request gets an OTLP Status body instead of text."""

    head_timeout: float = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_started = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._head_started = True
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._head_started = False
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # closed, or a request is under way: the app times its body out
        if self._head_started:
            message = f"request head not received within {self.head_timeout:g} s"
            self._send_raw(408, message)
        else:
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._send_raw(400, f"malformed HTTP request: {msg}")

    def _send_raw(self, status: int, message: str) -> None:
        """An error reply written directly: h11's state may not allow a response here."""
        content_type, body = error_reply(status, message, as_json=True)
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: {content_type}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
