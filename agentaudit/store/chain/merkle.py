"""RFC 6962 / RFC 9162 Merkle trees: leaf hash SHA-256(0x00 || leaf), node SHA-256(0x01 || l || r).

Hand-written (about 40 lines) because the well-kept libraries for it are transparency-log
clients with network code; the standalone checker `tests/verify_proof_standalone.py` holds its
own copy of the verification half, so a bug here cannot hide behind a shared one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962 section 2.1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaves (their data, hashed here); the empty tree hashes to SHA-256('')."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    sha256 = hashlib.sha256  # leaf_hash and node_hash inlined: a third of the root's CPU
    level = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
    # bottom-up pairing gives RFC 6962's tree: an odd node is carried up unchanged
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` (RFC 6962 section 2.1.1)."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(leaves[:k], index), root(leaves[k:])]
    return [*inclusion_path(leaves[k:], index - k), root(leaves[:k])]


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2)."""
    if index >= size:
        raise ValueError("leaf index beyond the tree size")
    fn, sn = index, size - 1
    result = leaf_hash(leaf)
    for sibling in path:
        if sn == 0:
            raise ValueError("audit path longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("audit path shorter than the tree is deep")
    return result
