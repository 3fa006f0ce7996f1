"""The owner's side: a unix socket (0600, same user only) answering reads and commands.

`watch` and `serve` start one beside the store they hold. Reads run on their own cursor in a
READ ONLY transaction, after `sql_gate` let the SQL through; commands (`commands.COMMANDS`)
run under `writing`, the lock the host's own writer holds for each of its passes, so a
command never interleaves with a pass and never conflicts with its transaction.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import socketserver
import struct
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from agentaudit.owner import commands, protocol, sql_gate
from agentaudit.store import Store

log = logging.getLogger(__name__)


class OwnerServer:
    """`OwnerServer(store, command="agentaudit watch").start()`; `stop()` at the end."""

    def __init__(
        self, store: Store, *, command: str, writing: threading.RLock | None = None
    ) -> None:
        if store.path is None:
            raise ValueError("an in-memory store has no other process to answer")
        self.store = store
        self.db: Path = store.path
        self.command = command
        self.writing = writing or threading.RLock()
        self.socket_path = self._socket_path()
        self._server: _UnixServer | None = None
        self._thread: threading.Thread | None = None

    def _socket_path(self) -> Path:
        beside = protocol.socket_beside(self.db)
        if len(str(beside)) <= protocol.MAX_SOCKET_PATH:
            return beside
        return Path(tempfile.mkdtemp(prefix="agentaudit-owner-")) / "store.sock"

    def start(self) -> OwnerServer:
        self.socket_path.unlink(missing_ok=True)  # a dead owner's: we hold the store's lock
        old = os.umask(0o077)
        try:
            self._server = _UnixServer(str(self.socket_path), _Handler, owner=self)
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="store-owner", daemon=True
        )
        self._thread.start()
        protocol.write_owner_file(
            self.db,
            {"pid": os.getpid(), "command": self.command, "socket": str(self.socket_path)},
        )
        return self

    def stop(self) -> None:
        recorded = protocol.read_owner_file(self.db)
        if recorded is not None and recorded.get("pid") == os.getpid():
            protocol.owner_file(self.db).unlink(missing_ok=True)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    # -- the work of one request -----------------------------------------------------------

    @contextlib.contextmanager
    def _cursor_store(self, *, reader: bool = False) -> Iterator[Store]:
        """The store on a cursor of the owner's connection (never closed as the store: that
        would drop the owner's lock holder file)."""
        cursor = self.store.con.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            if reader:  # a name in a reader's SQL never finds a Python variable of ours
                cursor.execute("SET python_enable_replacements = false")
            yield Store(cursor, self.db)
        finally:
            cursor.close()

    def query(self, sql: str, params: list[Any]) -> pa.Table:
        with self._cursor_store(reader=True) as store:
            sql_gate.check_select(store.con, sql)
            store.con.execute("BEGIN TRANSACTION READ ONLY")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    return store.con.execute(sql, params).to_arrow_table()
            finally:
                store.con.execute("ROLLBACK")

    def call(self, name: str, args: dict[str, Any]) -> Any:
        function = commands.COMMANDS.get(name)
        if function is None:
            raise commands.CommandRefused(f"the store's owner has no command {name!r}")
        with self.writing, self._cursor_store() as store:
            return function(store, **args)


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, handler: type, *, owner: OwnerServer) -> None:
        self.owner = owner
        super().__init__(path, handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        if not _same_user(self.request):
            protocol.send_message(
                self.request, {"ok": False, "error": "PermissionError", "message": "not yours"}
            )
            return
        owner = self.server.owner
        try:
            request = json.loads(self.rfile.readline(protocol.MAX_HEADER))
            op = request.get("op")
            if op == "ping":
                reply: dict[str, Any] = {"ok": True, "pid": os.getpid(), "command": owner.command}
                protocol.send_message(self.request, reply)
            elif op == "query":
                params = protocol.decode_value(request.get("params") or [])
                table = owner.query(str(request["sql"]), params)
                payload = _ipc(table)
                protocol.send_message(
                    self.request, {"ok": True, "kind": "arrow", "size": len(payload)}, payload
                )
            elif op == "call":
                value = owner.call(str(request["command"]), dict(request.get("args") or {}))
                protocol.send_message(self.request, {"ok": True, "kind": "json", "value": value})
            else:
                raise commands.CommandRefused(f"unknown request {op!r}")
        except (duckdb.Error, commands.CommandRefused) as exc:
            self._error(exc)
        except Exception as exc:  # a bug: the owner goes on; the caller gets one line
            log.exception("store owner: request failed")
            self._error(exc)

    def _error(self, exc: BaseException) -> None:
        with contextlib.suppress(OSError):
            protocol.send_message(
                self.request,
                {"ok": False, "error": _error_kind(exc), "message": str(exc)},
            )


def _error_kind(exc: BaseException) -> str:
    """The duckdb exception class (or `CommandRefused`) the caller raises again."""
    for cls in type(exc).__mro__:
        if getattr(duckdb, cls.__name__, None) is cls:
            return cls.__name__
    return type(exc).__name__


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _same_user(sock: socket.socket) -> bool:
    """The peer runs as this user (Linux `SO_PEERCRED`; elsewhere the socket's 0600 decides)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option, 12))
    return uid == os.getuid()
