"""`agentaudit verify`: recompute the chain, its checkpoints and every chained row.

Names each row changed, deleted, inserted or reordered (also those a writer noticed at open as
changed outside agentaudit), each link whose hashes do not add up, each checkpoint whose
signature fails or that the chain no longer reproduces, links no signed checkpoint covers,
and, given the file checkpoints were also written to, each of them the store lost or replaced.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agentaudit.store.chain import merkle, rows, signing
from agentaudit.store.chain.writer import GENESIS, leaf, link_fields, link_hash


@dataclass
class Problem:
    kind: str  # changed, deleted, inserted, reordered, truncated, link, checkpoint, unsigned,
    #            uncovered, anchor
    detail: str
    table: str | None = None
    key: str | None = None


@dataclass
class VerifyReport:
    links: int = 0
    checkpoints: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def add(self, kind: str, detail: str, table: str | None = None, key: str | None = None) -> None:
        self.problems.append(Problem(kind, detail, table, key))

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "links": self.links,
            "checkpoints": self.checkpoints,
            "rows": self.rows,
            "problems": [asdict(p) for p in self.problems],
        }


def verify(
    con: duckdb.DuckDBPyConnection,
    public_key: Ed25519PublicKey | None,
    anchor: Path | None = None,
) -> VerifyReport:
    report = VerifyReport()
    hashes = _check_links(con, report)
    _check_checkpoints(con, public_key, hashes, report)
    if anchor is not None:
        _check_anchor(con, public_key, anchor, hashes, report)
    for table in rows.CHAINED:
        _check_rows(con, table, report)
    _report_outside(con, report)
    return report


def _links(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    cursor = con.execute("SELECT * FROM chain ORDER BY seq, rowid")
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(1000):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def _check_links(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> list[bytes]:
    """Each link recomputed from its rows and the one before; returns the recomputed hashes."""
    recomputed: list[bytes] = []
    prev_stored, prev_recomputed = GENESIS, GENESIS
    for link in _links(con):
        seq, table = link["seq"], link["table_name"]
        expected_seq = len(recomputed) + 1
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "repeated or out of order"
            report.add("link", f"link {seq} follows link {expected_seq - 1}: links {what}")
        keys, hashes = link["row_keys"] or [], link["row_hashes"] or []
        root = merkle.root([leaf(table, k, h) for k, h in zip(keys, hashes, strict=False)]).hex()
        if len(keys) != len(hashes) or root != link["batch_root"]:
            report.add("link", f"link {seq} ({table}): its row list does not hash to its root")
        fields = link_fields(
            seq, table, link["action"], link["note"], len(keys), root, link["created_at"]
        )
        if link["prev_hash"] != prev_stored:
            report.add("link", f"link {seq}: does not name link {seq - 1} as its previous link")
        if link_hash(link["prev_hash"], fields) != link["link_hash"]:
            report.add("link", f"link {seq} ({table}): its hash does not match its content")
        prev_recomputed = link_hash(prev_recomputed, fields)
        recomputed.append(bytes.fromhex(prev_recomputed))
        prev_stored = link["link_hash"]
    report.links = len(recomputed)
    return recomputed


def _checkpoint_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute("SELECT * FROM chain_checkpoints ORDER BY checkpoint_no, rowid")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _check_checkpoints(
    con: duckdb.DuckDBPyConnection,
    public_key: Ed25519PublicKey | None,
    hashes: list[bytes],
    report: VerifyReport,
) -> None:
    checkpoints = _checkpoint_rows(con)
    report.checkpoints = len(checkpoints)
    covered = 0
    for number, row in enumerate(checkpoints, start=1):
        name = f"checkpoint {row['checkpoint_no']}"
        if row["checkpoint_no"] != number:
            report.add("checkpoint", f"{name} is number {number} in order: checkpoints missing")
        fields = signing.statement(row)
        if not row["signature"]:
            report.add("unsigned", f"{name} has no signature")
        elif public_key is None or not signing.signature_ok(public_key, fields, row["signature"]):
            report.add("checkpoint", f"{name}: its signature fails with the public key")
        _check_tree_head(name, fields, hashes, report)
        covered = max(covered, int(row["tree_size"]))
    if covered < len(hashes):
        first = covered + 1
        report.add(
            "uncovered",
            f"links {first}..{len(hashes)} were written after the last signed checkpoint "
            f"(covering {covered}): nothing signed vouches for them",
        )


def _check_tree_head(
    name: str, fields: dict[str, Any], hashes: list[bytes], report: VerifyReport
) -> None:
    size = fields["tree_size"]
    if size > len(hashes):
        report.add(
            "truncated", f"{name} covers {size} links but the chain has {len(hashes)}: cut short"
        )
    elif merkle.root(hashes[:size]).hex() != fields["root_hash"]:
        report.add("checkpoint", f"{name}: the chain's first {size} links no longer give its root")


def _check_anchor(
    con: duckdb.DuckDBPyConnection,
    public_key: Ed25519PublicKey | None,
    anchor: Path,
    hashes: list[bytes],
    report: VerifyReport,
) -> None:
    stored = {row["checkpoint_no"]: row for row in _checkpoint_rows(con)}
    for number, line in enumerate(anchor.read_text("utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            fields, signature = record["statement"], record["signature"]
        except (ValueError, KeyError, TypeError):
            report.add("anchor", f"{anchor}:{number}: not a checkpoint record")
            continue
        name = f"checkpoint {fields.get('checkpoint')} of {anchor}"
        if public_key is None or not signing.signature_ok(public_key, fields, signature):
            report.add("anchor", f"{name}: its signature fails with the public key")
            continue
        row = stored.get(fields["checkpoint"])
        if row is None:
            report.add("anchor", f"{name} is missing from the store")
        elif signing.statement(row) != fields or row["signature"] != signature:
            report.add("anchor", f"{name} was replaced in the store")
        _check_tree_head(name, fields, hashes, report)


def _check_rows(con: duckdb.DuckDBPyConnection, table: str, report: VerifyReport) -> None:
    actual, expected = rows.actual_sql(con, table), rows.expected_sql(table)
    report.rows[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    mismatched = con.execute(
        f"""WITH actual AS ({actual}), expected AS ({expected}),
                 counted AS (SELECT *, count(*) OVER (PARTITION BY k) AS copies FROM actual)
            SELECT coalesce(a.k, e.k), a.h, e.h, a.copies FROM counted a
            FULL JOIN expected e ON a.k = e.k
            WHERE e.h IS DISTINCT FROM coalesce(a.h, '{rows.DELETED}')
               OR (a.copies > 1 AND a.h = e.h AND a.pos > (
                    SELECT min(pos) FROM counted c WHERE c.k = a.k AND c.h = e.h))
            ORDER BY coalesce(a.pos, -1), 1"""
    ).fetchall()
    deleted = 0
    for key, now, chained, copies in mismatched:
        if now is None:
            report.add("deleted", "chained row is gone", table, key)
            deleted += 1
        elif chained is None or chained == rows.DELETED:
            report.add("inserted", "row the chain never recorded", table, key)
        elif copies and copies > 1:
            report.add("inserted", "another row with a chained row's key", table, key)
        else:
            report.add("changed", "content differs from what the chain recorded", table, key)
    live = con.execute(f"SELECT count(*) FROM ({expected}) WHERE h <> '{rows.DELETED}'").fetchall()[
        0
    ][0]
    if report.rows[table] == 0 and live:
        report.add("truncated", f"every one of the {live} chained rows is gone", table)
    if table in rows.APPEND_ONLY:
        _check_order(con, table, actual, expected, report)


def _check_order(
    con: duckdb.DuckDBPyConnection, table: str, actual: str, expected: str, report: VerifyReport
) -> None:
    """Rows of an append-only table stored out of the order they were chained in: those
    outside one longest run in chain order (of two swapped rows, one is named)."""
    ordered = con.execute(
        f"""WITH actual AS ({actual}), expected AS ({expected})
            SELECT a.k, rank() OVER (ORDER BY e.seq, e.idx) AS chained
            FROM actual a JOIN expected e ON a.k = e.k AND a.h = e.h
            QUALIFY count(*) OVER (PARTITION BY a.k) = 1
            ORDER BY a.pos"""
    ).fetchall()
    keep = _longest_increasing([row[1] for row in ordered])
    for position, (key, _rank) in enumerate(ordered):
        if position not in keep:
            report.add("reordered", "stored out of the order it was chained in", table, key)


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []  # value at the end of the best run of each length
    tail_at: list[int] = []  # its position
    previous = [-1] * len(values)
    for position, value in enumerate(values):
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[length], tail_at[length] = value, position
        previous[position] = tail_at[length - 1] if length else -1
    keep, position = set(), tail_at[-1] if tail_at else -1
    while position != -1:
        keep.add(position)
        position = previous[position]
    return keep


def _report_outside(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    """Rows a writer found changed at open, before it wrote anything: recorded, not forgiven."""
    if not con.execute("SELECT count(*) FROM chain WHERE action = 'outside'").fetchall()[0][0]:
        return
    found = con.execute(
        """WITH entries AS (
               SELECT seq, table_name, action, created_at, unnest(row_keys) AS k,
                      unnest(row_hashes) AS h FROM chain)
           SELECT o.table_name, o.k, o.h, o.created_at,
                  (SELECT arg_max(p.h, p.seq) FROM entries p
                   WHERE p.table_name = o.table_name AND p.k = o.k AND p.seq < o.seq) AS before
           FROM entries o WHERE o.action = 'outside' ORDER BY o.seq"""
    ).fetchall()
    for table, key, now, at, before in found:
        kind = "deleted" if now == rows.DELETED else "inserted" if before is None else "changed"
        report.add(
            kind,
            f"while no agentaudit writer held the store (noticed {at:%Y-%m-%d %H:%M:%S})",
            table,
            key,
        )
