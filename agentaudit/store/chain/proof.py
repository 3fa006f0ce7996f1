"""`agentaudit verify --proof KEY`: an inclusion proof a third party checks with the public key.

The proof carries the row as the chain hashed it (canonical JSON), the audit path from its
leaf to its link's batch root, the link's fields, the audit path from the link to a signed
checkpoint's tree head, and that checkpoint's statement and signature. `tests/
verify_proof_standalone.py` checks one with the standard library and `cryptography` alone.
"""

from __future__ import annotations

from typing import Any

import duckdb

from agentaudit.errors import UserError
from agentaudit.store.chain import merkle, rows, signing
from agentaudit.store.chain.writer import leaf, link_fields

PROOF_VERSION = 1


def inclusion_proof(con: duckdb.DuckDBPyConnection, key: str, table: str = "events") -> dict:
    if table not in rows.CHAINED:
        raise UserError(f"{table} is not chained; chained tables: {', '.join(rows.CHAINED)}")
    found = con.execute(
        "SELECT seq, list_position(row_keys, ?) FROM chain WHERE table_name = ? "
        "AND list_contains(row_keys, ?) ORDER BY seq DESC LIMIT 1",
        [key, table, key],
    ).fetchall()
    if not found:
        raise UserError(f"no {table} row {key} in the chain")
    seq, position = int(found[0][0]), int(found[0][1])
    cursor = con.execute("SELECT * FROM chain WHERE seq = ?", [seq])
    names = [d[0] for d in cursor.description]
    link = dict(zip(names, cursor.fetchall()[0], strict=True))
    index = position - 1
    row_hash = link["row_hashes"][index]
    if row_hash == rows.DELETED:
        raise UserError(f"{table} row {key} was deleted (link {seq}): nothing to prove")
    canonical = _canonical_row(con, table, key, row_hash)
    leaves = [leaf(table, k, h) for k, h in zip(link["row_keys"], link["row_hashes"], strict=True)]
    checkpoint = _covering_checkpoint(con, seq)
    size = int(checkpoint["tree_size"])
    links = [
        bytes.fromhex(r[0])
        for r in con.execute(
            "SELECT link_hash FROM chain WHERE seq <= ? ORDER BY seq", [size]
        ).fetchall()
    ]
    return {
        "version": PROOF_VERSION,
        "table": table,
        "key": key,
        "row": canonical,
        "row_hash": row_hash,
        "batch": {
            "index": index,
            "size": len(leaves),
            "path": [h.hex() for h in merkle.inclusion_path(leaves, index)],
        },
        "link": link_fields(
            seq,
            table,
            link["action"],
            link["note"],
            len(leaves),
            link["batch_root"],
            link["created_at"],
        ),
        "prev_hash": link["prev_hash"],
        "link_hash": link["link_hash"],
        "tree": {
            "index": seq - 1,
            "size": size,
            "path": [h.hex() for h in merkle.inclusion_path(links, seq - 1)],
        },
        "checkpoint": {
            "statement": signing.statement(checkpoint),
            "signature": checkpoint["signature"],
        },
    }


def _canonical_row(con: duckdb.DuckDBPyConnection, table: str, key: str, row_hash: str) -> str:
    canonical = rows.canonical_sql(rows.columns(con, table), "t")
    found = con.execute(
        f"SELECT {canonical}, sha256({canonical}) FROM {table} t "
        f"WHERE {rows.key_sql(table, 't')} = ?",
        [key],
    ).fetchall()
    for text, digest in found:
        if digest == row_hash:
            return str(text)
    raise UserError(
        f"{table} row {key} no longer holds what the chain recorded: run `agentaudit verify`"
    )


def _covering_checkpoint(con: duckdb.DuckDBPyConnection, seq: int) -> dict[str, Any]:
    cursor = con.execute(
        "SELECT * FROM chain_checkpoints WHERE tree_size >= ? ORDER BY checkpoint_no DESC LIMIT 1",
        [seq],
    )
    names = [d[0] for d in cursor.description]
    found = cursor.fetchall()
    if not found:
        raise UserError(
            f"link {seq} is not covered by a signed checkpoint yet (one is signed when the "
            "writer closes the store)"
        )
    return dict(zip(names, found[0], strict=True))
