"""Every listener of agentaudit (the watch health endpoint, the loopback receiver, the guard
socket) against malformed, oversized, slow and idle clients, over real sockets: every
request gets an answer, and no thread or socket is held past the read timeout.

Loopback by default; off loopback each HTTP listener refuses to start without a token and
answers 401 without it (bound on 0.0.0.0 and reached through 127.0.0.1 here). The OTLP
receiver (`serve`) has its own tests (agentaudit/receivers/otlp/test_server.py); the
dashboard is Streamlit's server with the token gate of agentaudit/dashboards/access.py.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentaudit.enrich.secrets import Redactor
from agentaudit.realtime.guard import server as guard_server
from agentaudit.realtime.guard.server import GuardServer
from agentaudit.realtime.guard.service import Guard
from agentaudit.realtime.watch.config import config_from_dict
from agentaudit.realtime.watch.health import HealthServer
from agentaudit.receiver import LocalReceiver
from agentaudit.testing import TEST_KEY

TIMEOUT = 0.5  # the listeners' read timeout in these tests
SETTLE = 30.0  # a bound for threads to finish, never a measurement


def healthy() -> tuple[int, dict]:
    return 200, {"status": "ok"}


@contextmanager
def health(**kwargs) -> Iterator[int]:
    server = HealthServer(kwargs.pop("host", "127.0.0.1"), 0, healthy, timeout=TIMEOUT, **kwargs)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


@contextmanager
def receiver(**kwargs) -> Iterator[int]:
    with LocalReceiver(timeout=TIMEOUT, **kwargs) as rx:
        yield rx.port


LISTENERS: dict[str, Callable] = {"health": health, "receiver": receiver}


def exchange(port: int, data: bytes, *, pause: float = 0.0) -> bytes:
    """Send `data` (then wait `pause`), read the whole answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=SETTLE) as sock:
        if data:
            sock.sendall(data)
        time.sleep(pause)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:200]
    return int(answer.split(b" ", 2)[1])


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settles(baseline_threads: int) -> bool:
    deadline = time.monotonic() + SETTLE
    while threading.active_count() > baseline_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    return threading.active_count() <= baseline_threads


@pytest.mark.parametrize("name", list(LISTENERS))
@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"GARBAGE\r\n\r\n", 400),  # not HTTP
        (b"GET /healthz HTTP/9.9\r\n\r\n", 505),  # an HTTP version nobody speaks
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),  # a 70 KB request line
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),  # 200 headers
        (b"POST /alerts HTTP/1.1\r\nContent-Length: -5\r\n\r\n", (400, 405)),
        (b"PUT /alerts HTTP/1.1\r\nContent-Length: 0\r\n\r\n", (405, 501)),  # not taken
    ],
)
def test_malformed_requests_get_an_http_answer(name, request_bytes, expected):
    with LISTENERS[name]() as port:
        status = status_of(exchange(port, request_bytes))
    assert status in (expected if isinstance(expected, tuple) else (expected,))


def test_oversized_bodies_are_refused_before_they_are_read():
    big = b"POST /alerts HTTP/1.1\r\nContent-Length: 50000000\r\n\r\n"
    with receiver(max_body=1 << 20) as port:
        assert status_of(exchange(port, big)) == 413
    with health() as port:  # it takes no body at all
        assert status_of(exchange(port, big.replace(b"/alerts", b"/healthz"))) == 405


@pytest.mark.parametrize("name", list(LISTENERS))
@pytest.mark.parametrize(
    "partial",
    [
        b"",  # idle: connected, nothing sent
        b"GET /heal",  # slow: half a request line
        b'POST /alerts HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"half":',  # half a body
    ],
)
def test_slow_and_idle_clients_get_408_and_free_their_thread(name, partial):
    with LISTENERS[name]() as port:
        threads, fds = threading.active_count(), open_fds()
        clients = []
        for _ in range(20):
            clients.append(socket.create_connection(("127.0.0.1", port)))
            if partial:
                clients[-1].sendall(partial)
        answers = []
        for client in clients:
            client.settimeout(SETTLE)
            answers.append(b"".join(iter(lambda c=client: c.recv(65536), b"")))
            client.close()
        # the health endpoint refuses a body at once (405); everything else waited, then 408
        refused = name == "health" and b"Content-Length" in partial
        assert {status_of(a) for a in answers} == {405 if refused else 408}
        assert settles(threads), "a handler thread outlived its timeout"
        assert open_fds() <= fds
        # and it still answers the next client
        if name == "health":
            assert status_of(exchange(port, b"GET /healthz HTTP/1.1\r\n\r\n")) == 200


@pytest.mark.parametrize("name", list(LISTENERS))
def test_off_loopback_a_token_is_required(name):
    with pytest.raises(ValueError, match="needs a token"):
        LISTENERS[name](host="0.0.0.0").__enter__()
    request = {
        "health": b"GET /healthz HTTP/1.1\r\n",
        "receiver": b"POST /alerts HTTP/1.1\r\nContent-Length: 2\r\n",
    }[name]
    body = b"{}" if name == "receiver" else b""
    with LISTENERS[name](host="0.0.0.0", token="s3cret-t0ken") as port:
        assert status_of(exchange(port, request + b"\r\n" + body)) == 401
        wrong = request + b"Authorization: Bearer nope\r\n\r\n" + body
        assert status_of(exchange(port, wrong)) == 401
        right = request + b"Authorization: Bearer s3cret-t0ken\r\n\r\n" + body
        assert status_of(exchange(port, right)) == 200


def test_watch_refuses_a_health_endpoint_off_loopback_without_a_token():
    with pytest.raises(ValueError, match="needs a token"):
        config_from_dict({"health": {"host": "0.0.0.0", "port": 8787}})
    config = config_from_dict({"health": {"host": "0.0.0.0", "port": 8787, "token": "t"}})
    assert config.health_token == "t"


# -- the guard socket: a unix socket, mode 0600 (its permission is the token) ---------------


@pytest.fixture
def guard_socket(tmp_path, monkeypatch) -> Iterator[Path]:
    monkeypatch.setattr(guard_server._Handler, "timeout", TIMEOUT)
    path = tmp_path / "g.sock"
    server = GuardServer(path, Guard(redactor=Redactor(TEST_KEY), log_path=tmp_path / "g.log"))
    server.start()
    try:
        yield path
    finally:
        server.stop()


def ask_guard(path: Path, data: bytes, *, close_write: bool = True) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(SETTLE)
        sock.connect(str(path))
        if data:
            sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        return json.loads(b"".join(iter(lambda: sock.recv(65536), b"")))


def test_the_guard_socket_is_private(guard_socket):
    assert guard_socket.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "data", [b"", b"not json", b'{"agent": "claude-code"}', b'{"agent": 5, "payload": []}']
)
def test_the_guard_answers_malformed_requests_and_never_allows_them(guard_socket, data):
    answer = ask_guard(guard_socket, data)
    assert "error" in answer or answer["decision"] == "ask"  # the client asks on an error


def test_the_guard_refuses_an_oversized_request(guard_socket):
    answer = ask_guard(guard_socket, b"x" * (guard_server.MAX_REQUEST + 10))
    assert "over" in answer["error"]


@pytest.mark.parametrize("partial", [b"", b'{"agent": "claude-code", "payl'])
def test_slow_and_idle_guard_clients_are_answered_and_freed(guard_socket, partial):
    threads = threading.active_count()
    answers = [ask_guard(guard_socket, partial, close_write=False) for _ in range(5)]
    assert all("within" in a["error"] for a in answers)
    assert settles(threads), "a guard thread outlived its timeout"
