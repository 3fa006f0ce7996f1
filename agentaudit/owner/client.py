"""The command's side: find the process that owns a store, and talk to it.

`owner_for(db)` answers only when `<store>.owner` names a socket that answers a ping, so a
stale file left by a killed owner costs nothing: the command opens the store itself.
`RemoteStore` is a read-only `Store` whose queries the owner runs, so every library function
that reads (timeline, incidents, the dashboard's pages) works unchanged on it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from agentaudit.owner import protocol
from agentaudit.owner.commands import CommandRefused
from agentaudit.store import Store

CONNECT_SECONDS = 5.0
PING_SECONDS = 10.0  # an owner busy detecting may take a moment to accept; a hang is a bound


class OwnerClient:
    def __init__(self, db: Path, socket_path: Path, command: str) -> None:
        self.db = db
        self.socket_path = socket_path
        self.command = command  # "agentaudit watch": what owns the store

    def request(
        self, message: dict[str, Any], timeout: float | None = None
    ) -> tuple[dict[str, Any], bytes]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CONNECT_SECONDS)
            sock.connect(str(self.socket_path))
            sock.settimeout(timeout)
            protocol.send_message(sock, message)
            with sock.makefile("rb") as stream:
                header, payload = protocol.receive_message(stream)
        if not header.get("ok"):
            raise _error(str(header.get("error")), str(header.get("message")))
        return header, payload

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pa.Table:
        message = {"op": "query", "sql": sql, "params": protocol.encode_value(list(params or []))}
        _, payload = self.request(message)
        with pa.ipc.open_stream(payload) as reader:
            return reader.read_all()

    def call(self, command: str, **args: Any) -> Any:
        """Run one of `commands.COMMANDS` in the owner; its result (JSON values)."""
        header, _ = self.request({"op": "call", "command": command, "args": args})
        return header.get("value")


def owner_for(db: Path) -> OwnerClient | None:
    """The live owner of the store at `db`, or None."""
    info = protocol.read_owner_file(db)
    if not info or not info.get("socket"):
        return None
    client = OwnerClient(db, Path(str(info["socket"])), str(info.get("command") or "its owner"))
    try:
        client.request({"op": "ping"}, timeout=PING_SECONDS)
    except (OSError, ValueError, protocol.OwnerError):
        return None
    return client


def _error(kind: str, message: str) -> Exception:
    """The exception the owner raised, as the caller would have raised it itself."""
    cls = getattr(duckdb, kind, None)
    if isinstance(cls, type) and issubclass(cls, duckdb.Error):
        return cls(message)
    if kind == "CommandRefused":
        return CommandRefused(message)
    return protocol.OwnerError(kind, f"the store's owner failed: {message}")


class RemoteStore(Store):
    """A read-only store whose SQL runs in its owner: SELECTs over its tables and views."""

    def __init__(self, client: OwnerClient) -> None:
        super().__init__(_RemoteConnection(client), client.db)  # type: ignore[arg-type]
        self.client = client
        self.read_only = True

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pa.Table:
        return self.client.query(sql, params)

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) AS n FROM {table}").column(0)[0].as_py())

    def sandbox(self) -> Store:
        return self  # the owner's gate lets a reader's SQL reach the store only

    def close(self) -> None:
        pass  # nothing held: each query is its own connection


class _RemoteConnection:
    """What the SQL prompt and the dashboard's SQL page use of a connection."""

    def __init__(self, client: OwnerClient) -> None:
        self.client = client

    def extract_statements(self, sql: str) -> list[Any]:
        return duckdb.extract_statements(sql)

    def sql(self, query: str) -> _Result:
        return _Result(self.client.query(query))

    def execute(self, *_: Any, **__: Any) -> Any:
        raise duckdb.PermissionException(
            "Permission Error: this store is in use; its owner answers SELECTs only"
        )


class _Result:
    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def to_arrow_table(self) -> pa.Table:
        return self.table


__all__ = ["OwnerClient", "RemoteStore", "owner_for"]
