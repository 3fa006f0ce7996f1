"""The wire between a command and the store's owner: one request per connection.

Request: one JSON line. Reply: one JSON header line, then `size` bytes of an Arrow IPC stream
when the header says `"kind": "arrow"`. Parameters of a query keep their types through tags
(`{"$datetime": iso}`), since library code binds timestamps.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

# a unix socket's path is limited to 107 bytes; a longer one goes in a private temporary
# directory and the owner file says where
MAX_SOCKET_PATH = 100
MAX_HEADER = 64 * 1024 * 1024


class OwnerError(Exception):
    """The owner answered with an error; `kind` names the exception class it raised."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def owner_file(db: Path) -> Path:
    """`<store>.owner`: pid, command and socket of the process that owns the store."""
    return db.with_name(db.name + ".owner")


def socket_beside(db: Path) -> Path:
    return db.with_name(db.name + ".sock")


def read_owner_file(db: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(owner_file(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_owner_file(db: Path, info: dict[str, Any]) -> None:
    path = owner_file(db)
    temporary = path.with_name(path.name + f".{os.getpid()}")
    temporary.write_text(json.dumps(info), encoding="utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
        if tag == "$decimal":
            return Decimal(text)
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def send_message(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    line = json.dumps(header, default=str, ensure_ascii=False).encode() + b"\n"
    sock.sendall(line + payload)


def receive_message(stream: Any) -> tuple[dict[str, Any], bytes]:
    """Read one header line and its payload from a binary file-like object."""
    line = stream.readline(MAX_HEADER)
    if not line.endswith(b"\n"):
        raise OwnerError("ProtocolError", "the store's owner closed the connection mid-message")
    header = json.loads(line)
    size = int(header.get("size") or 0)
    payload = stream.read(size) if size else b""
    if len(payload) != size:
        raise OwnerError("ProtocolError", "the store's owner closed the connection mid-message")
    return header, payload
