"""Check an `agentaudit verify --proof` inclusion proof knowing only the public key.

    python verify_proof_standalone.py PROOF.json PUBLIC_KEY.pem

Standard library and `cryptography` only, written from the format (not importing agentaudit):
the row's hash, its RFC 9162 audit path to its link's batch root, the link's hash over the
previous link, the link's audit path to the checkpoint's tree head, and the ed25519 signature
over that checkpoint. Prints "ok: ..." and exits 0, or prints why not and exits 1.
"""

from __future__ import annotations

import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

STATEMENT_PREFIX = b"agentaudit-chain-checkpoint-v1\n"


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def root_from_path(leaf: bytes, index: int, size: int, path: list[str]) -> bytes:
    """RFC 9162 section 2.1.3.2, leaf hash 0x00, node hash 0x01."""
    if index >= size:
        raise ValueError("leaf index beyond the tree size")
    fn, sn = index, size - 1
    result = hashlib.sha256(b"\x00" + leaf).digest()
    for hex_sibling in path:
        sibling = bytes.fromhex(hex_sibling)
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            result = hashlib.sha256(b"\x01" + sibling + result).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = hashlib.sha256(b"\x01" + result + sibling).digest()
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("audit path too short")
    return result


def check(proof: dict, public_pem: bytes) -> str:
    table, key, link = proof["table"], proof["key"], proof["link"]
    row_hash = hashlib.sha256(proof["row"].encode()).hexdigest()
    if row_hash != proof["row_hash"]:
        raise ValueError("the row does not hash to row_hash")
    row = json.loads(proof["row"])
    key_field = {"events": "event_id", "findings": "finding_id", "alerts": "alert_id"}.get(table)
    if key_field and row.get(key_field) != key:
        raise ValueError(f"the row's {key_field} is not {key}")
    batch = proof["batch"]
    leaf = f"{table}\n{key}\n{row_hash}".encode()
    batch_root = root_from_path(leaf, batch["index"], batch["size"], batch["path"]).hex()
    if batch_root != link["batch_root"] or batch["size"] != link["rows"] or link["table"] != table:
        raise ValueError("the row's audit path does not lead to its link's batch root")
    link_hash = hashlib.sha256(bytes.fromhex(proof["prev_hash"]) + canonical(link)).hexdigest()
    if link_hash != proof["link_hash"]:
        raise ValueError("the link does not hash to link_hash")
    tree, statement = proof["tree"], proof["checkpoint"]["statement"]
    if tree["index"] != link["seq"] - 1 or tree["size"] != statement["tree_size"]:
        raise ValueError("the link's position does not match the checkpoint")
    tree_root = root_from_path(bytes.fromhex(link_hash), tree["index"], tree["size"], tree["path"])
    if tree_root.hex() != statement["root_hash"]:
        raise ValueError("the link's audit path does not lead to the checkpoint's root")
    public_key = load_pem_public_key(public_pem)
    signature = bytes.fromhex(proof["checkpoint"]["signature"])
    try:
        public_key.verify(signature, STATEMENT_PREFIX + canonical(statement))  # type: ignore[union-attr,call-arg]
    except InvalidSignature:
        raise ValueError("the checkpoint's signature fails with this public key") from None
    return f"ok: {table} {key} is in checkpoint {statement['checkpoint']} ({tree['size']} links)"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    with open(argv[1], encoding="utf-8") as proof_file, open(argv[2], "rb") as key_file:
        proof, public_pem = json.load(proof_file), key_file.read()
    try:
        print(check(proof, public_pem))
    except (ValueError, KeyError, TypeError) as exc:
        print(f"proof fails: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
