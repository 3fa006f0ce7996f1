"""The chain's signing key and checkpoint statements (ed25519, `cryptography`).

The private key is PEM (PKCS #8) in the data directory beside the fingerprint key, mode 0600;
`agentaudit verify --public-key` prints its public half, which a third party needs to check a
checkpoint or an inclusion proof. A statement is canonical JSON after a fixed prefix, so the
bytes signed can be rebuilt from the stored columns alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agentaudit import paths

STATEMENT_PREFIX = b"agentaudit-chain-checkpoint-v1\n"
KEY_FILENAME = "chain-signing.key"


def key_path() -> Path:
    return paths.home() / KEY_FILENAME


def load_or_create_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or key_path()
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(text: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(text.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an ed25519 public key")
    return key


def local_public_key(pem_file: Path | None = None) -> Ed25519PublicKey | None:
    """The public key to check with: from a PEM file the user names, else the local signing
    key's public half (None when nothing was ever signed here)."""
    if pem_file is not None:
        return load_public_pem(pem_file.read_text("ascii"))
    path = key_path()
    return load_or_create_key(path).public_key() if path.exists() else None


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def statement(row: dict[str, Any]) -> dict[str, Any]:
    """The signed fields of a `chain_checkpoints` row."""
    return {
        "checkpoint": int(row["checkpoint_no"]),
        "tree_size": int(row["tree_size"]),
        "root_hash": row["root_hash"],
        "head_hash": row["head_hash"],
        "created_at": row["created_at"].isoformat(),
        "key_id": row["key_id"],
    }


def statement_bytes(fields: dict[str, Any]) -> bytes:
    return STATEMENT_PREFIX + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(key: Ed25519PrivateKey, fields: dict[str, Any]) -> str:
    return key.sign(statement_bytes(fields)).hex()


def signature_ok(public: Ed25519PublicKey, fields: dict[str, Any], signature: str | None) -> bool:
    if not signature:
        return False
    try:
        public.verify(bytes.fromhex(signature), statement_bytes(fields))
    except (InvalidSignature, ValueError):
        return False
    return True
