"""One small loopback HTTP API for the pullers' tests: serves a platform's recorded pages in
the order its paging asks for them, checks the token, and can answer 429 once.

A real `ThreadingHTTPServer` on 127.0.0.1 (the platforms cannot be reached from here); what a
platform does differently is given as data (`Api`): which page a request asks for, the headers
a page comes with (GitLab's and GitHub's `Link`), how a good token looks and how it says
"slow down" (status and headers).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Api:
    pages: list[Any]  # the answers, in paging order
    page_of: Callable[[dict[str, str]], int | None]  # query -> page index; None: the empty page
    empty: Any  # the answer past the last page
    token_ok: Callable[[Mapping[str, str]], bool]
    throttle: Callable[[], dict[str, str]]  # the headers of its 429 answer, made when sent
    headers_for: Callable[[int, str], dict[str, str]] = lambda page, base: {}
    throttle_status: int = 429  # GitHub also says "slow down" with 403


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    status: int


@dataclass
class LoopbackApi:
    api: Api
    throttle_page: int | None = 1  # answer 429 once to the first request for this page
    requests: list[Seen] = field(default_factory=list)

    def __enter__(self) -> LoopbackApi:
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                status, body, headers = loopback.answer(query, self.headers)
                loopback.requests.append(Seen(parts.path, query, status))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, query: dict[str, str], headers: Mapping[str, str]):
        if not self.api.token_ok(headers):
            return 401, {"message": "401 Unauthorized"}, {}
        page = self.api.page_of(query)
        if page is not None and page == self.throttle_page:
            self.throttle_page = None
            return self.api.throttle_status, {"message": "rate limited"}, self.api.throttle()
        if page is None or page >= len(self.api.pages):
            return 200, self.api.empty, {}
        return 200, self.api.pages[page], self.api.headers_for(page, self.base)
