"""What every small HTTP listener of agentaudit shares (the health endpoint, the loopback
receiver): loopback by default and a bearer token otherwise, a per-read socket timeout that
answers a slow or idle client 408 and frees its thread, and answers that always carry a
Content-Length. http.server is enough here: a handful of requests, no framework to pull in.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from http.server import BaseHTTPRequestHandler
from typing import Any

TIMEOUT_SECONDS = 10.0
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_exposure(host: str, token: str | None, what: str) -> None:
    """Off loopback a listener needs a token: refuse to start otherwise (one clear line)."""
    if not is_loopback(host) and not token:
        raise ValueError(f"{what} on {host} needs a token (only loopback runs without one)")


class BoundedHandler(BaseHTTPRequestHandler):
    """A handler whose socket reads time out (`timeout`), answered 408, and that checks an
    optional bearer token (`token`); subclasses set both as class attributes."""

    timeout: float | None = TIMEOUT_SECONDS
    token: str | None = None
    # http.server answers a line without a version (HTTP/0.9) with a bare body and no status
    # line: every answer here has one
    default_request_version = "HTTP/1.0"

    def authorized(self) -> bool:
        if not self.token:
            return True
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return True
        self.answer(401)
        return False

    def answer(self, status: int, body: bytes = b"", content_type: str = "") -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server drops a request line that timed out after logging it: answer it instead
        if args and isinstance(args[0], TimeoutError):
            with contextlib.suppress(OSError):
                self.wfile.write(_TIMED_OUT)

    def log_message(self, format: str, *args: Any) -> None:
        pass
